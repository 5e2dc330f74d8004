import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addLoadFlags } from '../validate/options.js';

/** `custos run [flags] -- command args…`. */
export function registerRunCommand(program: Command, lazy: Lazy): void {
  addLoadFlags(
    program
      .command('run')
      .description(
        'load and validate configuration, then run a command with it in its environment; signals are forwarded and its exit code passed through',
      )
      .argument('<command...>', 'the command and its arguments (after -- when they have options)')
      // Everything after the command name belongs to the command, not to custos.
      .passThroughOptions(),
  ).action(lazy(() => import('./run.js')));
}
