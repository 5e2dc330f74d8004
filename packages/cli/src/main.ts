import { CommanderError } from 'commander';
import { ExitCode } from './exit-codes.js';
import { reportError } from './output.js';
import { normaliseVaultFlags } from './vault/argv.js';

/**
 * Runs the custos command line with `argv` (without `node` and the script path) and returns
 * the exit code: 0 success, 1 a finding or failed check, 2 usage or runtime error.
 *
 * @example
 * ```ts
 * process.exitCode = await main(['keyring', 'create', '--out', 'keyring.json']);
 * ```
 */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const setExitCode = (code: number) => {
    exitCode = code;
  };
  // Vault's one-dash long flags (`-format=json`) read as commander's `--format=json`.
  const args = normaliseVaultFlags(argv);
  // `custos scan` (the pre-commit check, run on every commit) builds only its own branch of
  // the tree; the same commander definitions parse it either way.
  const program =
    args[0] === 'scan'
      ? (await import('./scan-program.js')).createScanProgram(setExitCode)
      : (await import('./program.js')).createProgram(setExitCode);
  try {
    await program.parseAsync(args, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end through here with code 0; every other parse error is usage.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.error;
    }
    reportError(err);
    return ExitCode.error;
  }
}
