import { checkEnvironment } from '@custos/core/secrets';
import { ExitCode } from '../../exit-codes.js';
import { warn } from '../../output.js';
import { type LoadFlags, toCheckOptions } from '../validate/options.js';
import { printReport } from '../validate/report.js';
import { checkPassedCredentials, stripLaunchCredentials } from './credentials.js';
import { runForwardingSignals } from './spawn.js';

interface Options extends LoadFlags {
  passCredential: string[];
}

export async function run(command: string[], options: Options): Promise<number> {
  // Checked first: a typo in a flag is a usage error before anything is loaded.
  checkPassedCredentials(options.passCredential);
  const report = await checkEnvironment(await toCheckOptions(options));
  if (report.problems.length > 0 || report.warnings.length > 0 || report.notices.length > 0) {
    // Standard output belongs to the command: the report goes to standard error.
    printReport(report, warn);
  }
  if (report.problems.length > 0) return ExitCode.finding;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of report.variables) env[name] = value.reveal();
  // The keys to the configuration stay with custos, also when a loaded file defines one.
  stripLaunchCredentials(env, options.passCredential);
  const [file, ...args] = command;
  return runForwardingSignals(file as string, args, env);
}
