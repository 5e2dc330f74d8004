import { type Command, CommanderError } from 'commander';
import { ExitCode } from './exit-codes.js';
import { reportError } from './output.js';

/**
 * Parses `args` with `program` (running the command they name) and returns the exit code: the
 * command's (`exitCode()`, which its action set), 0 for help and version, 2 for a usage error
 * or an error the command threw (reported on standard error).
 *
 * @example
 * ```ts
 * let code = 0;
 * return parseProgram(createProgram((c) => { code = c; }), ['kv', 'get', 'app'], () => code);
 * ```
 */
export async function parseProgram(
  program: Command,
  args: readonly string[],
  exitCode: () => number,
): Promise<number> {
  try {
    await program.parseAsync(args, { from: 'user' });
    return exitCode();
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end through here with code 0; every other parse error is usage.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.error;
    }
    reportError(err);
    return ExitCode.error;
  }
}
