import { installPreCommitHook } from '@custos/scan';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';

/** `custos scan install-hook`: writes the pre-commit hook. */
export async function run(options: { force: boolean }): Promise<number> {
  const path = await installPreCommitHook({ force: options.force });
  print(`wrote ${path}: each commit now runs custos scan --staged`);
  return ExitCode.ok;
}
