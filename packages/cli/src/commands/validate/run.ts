import { CustosError } from '@custos/core/errors';
import { checkEnvironment } from '@custos/core/secrets';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type LoadFlags, toCheckOptions } from './options.js';
import { printReport } from './report.js';

interface Options extends LoadFlags {
  json: boolean;
}

export async function run(options: Options): Promise<number> {
  const report = await checkEnvironment(await toCheckOptions(options));
  if (report.basis === 'env files' && report.checkedNames.length === 0) {
    // Nothing is known to be required and nothing is defined: an "ok" would pass vacuously.
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'nothing to validate: no schema (--schema), no example file (.env.example or --example) and no variables in the env files; name the variables the application needs in one of them',
    );
  }
  if (options.json) {
    const { environment, basis, checkedNames, problems, warnings, notices } = report;
    print(
      JSON.stringify({ environment, basis, checkedNames, problems, warnings, notices }, null, 2),
    );
  } else {
    printReport(report, print);
  }
  return report.problems.length > 0 ? ExitCode.finding : ExitCode.ok;
}
