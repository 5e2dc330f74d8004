import { checkEnvironment } from '@custos/core/secrets';
import { ExitCode } from '../../exit-codes.js';
import { warn } from '../../output.js';
import { type LoadFlags, toCheckOptions } from '../validate/options.js';
import { printReport } from '../validate/report.js';
import { runForwardingSignals } from './spawn.js';

export async function run(command: string[], options: LoadFlags): Promise<number> {
  const report = await checkEnvironment(await toCheckOptions(options));
  if (report.problems.length > 0 || report.warnings.length > 0 || report.notices.length > 0) {
    // Standard output belongs to the command: the report goes to standard error.
    printReport(report, warn);
  }
  if (report.problems.length > 0) return ExitCode.finding;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of report.variables) env[name] = value.reveal();
  const [file, ...args] = command;
  return runForwardingSignals(file as string, args, env);
}
