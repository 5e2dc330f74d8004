import type { Command } from 'commander';
import { createLazy, type Lazy } from './lazy.js';
import { runProgram } from './parse-program.js';
import { createRootCommand } from './root-command.js';

/**
 * The command tree with one command group in it (`register`'s): what `custos scan …` (the
 * pre-commit check) and `custos server …` parse with, so they load none of the other groups,
 * which a server would hold in memory for as long as it runs (some 2 MiB). `custos --help` and
 * every other command use the whole tree of program.ts.
 *
 * @example
 * ```ts
 * runProgram((setExitCode) => createBranchProgram(registerScanCommand, setExitCode), args);
 * ```
 */
export function createBranchProgram(
  register: (program: Command, lazy: Lazy) => void,
  setExitCode: (code: number) => void,
): Command {
  const program = createRootCommand();
  register(program, createLazy(setExitCode));
  return program;
}

/**
 * Runs `args` with the branch of `register` only (see {@link createBranchProgram}) and returns
 * the exit code.
 *
 * @example
 * ```ts
 * return runBranch(registerServerCommand, ['server', '--dev']);
 * ```
 */
export function runBranch(
  register: (program: Command, lazy: Lazy) => void,
  args: readonly string[],
): Promise<number> {
  return runProgram((setExitCode) => createBranchProgram(register, setExitCode), args);
}
