import type { Command } from 'commander';
import { registerScanCommand } from './commands/scan/register.js';
import { createLazy } from './lazy.js';
import { createRootCommand } from './root-command.js';

/**
 * The command tree with only `custos scan` in it: what `custos scan …` (the pre-commit check)
 * parses with, so it loads none of the other command groups. `custos --help` and every other
 * command use the whole tree of program.ts.
 */
export function createScanProgram(setExitCode: (code: number) => void): Command {
  const program = createRootCommand();
  registerScanCommand(program, createLazy(setExitCode));
  return program;
}
