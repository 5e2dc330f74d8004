import type { ScanOptions } from './commands/scan/run.js';
import { ExitCode } from './exit-codes.js';
import { reportError } from './output.js';

/**
 * The options commander hands `custos scan --staged` (the defaults of register.ts with
 * `staged` set): cli-bundle.test.ts holds the two equal.
 */
export const STAGED_SCAN_OPTIONS: Readonly<ScanOptions> = Object.freeze({
  format: 'text',
  stdin: false,
  git: false,
  staged: true,
  minConfidence: 'low',
  scanMinified: false,
  gitignore: true,
  cache: false,
});

/**
 * Runs `custos scan …` (`args` starts with `scan`) and returns its exit code. The pre-commit
 * check, `custos scan --staged` as the hook runs it on every commit, goes straight to the
 * command without commander, which takes a tenth of its start-up; anything else is parsed by
 * the scan branch of the command tree.
 *
 * @example
 * ```ts
 * process.exitCode = await scanMain(['scan', '--staged']);
 * ```
 */
export async function scanMain(args: readonly string[]): Promise<number> {
  if (args.length === 2 && args[0] === 'scan' && args[1] === '--staged') {
    const { run } = await import('./commands/scan/run.js');
    try {
      return await run([], { ...STAGED_SCAN_OPTIONS });
    } catch (err) {
      reportError(err);
      return ExitCode.error;
    }
  }
  const [{ runBranch }, { registerScanCommand }] = await Promise.all([
    import('./branch-program.js'),
    import('./commands/scan/register.js'),
  ]);
  return runBranch(registerScanCommand, args);
}
