import { type Command, CommanderError } from 'commander';
import { ExitCode } from './exit-codes.js';
import { reportError } from './output.js';

/**
 * Builds a command tree with `create` (handed the setter its commands report their exit code
 * through), parses `args` with it (running the command they name) and returns the exit code:
 * the command's, 0 for help and version, 2 for a usage error or an error the command threw
 * (reported on standard error).
 *
 * @example
 * ```ts
 * return runProgram(createProgram, ['kv', 'get', 'app']);
 * ```
 */
export async function runProgram(
  create: (setExitCode: (code: number) => void) => Command,
  args: readonly string[],
): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = create((code) => {
    exitCode = code;
  });
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
