import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addLoadFlags } from '../validate/options.js';

/** `custos run [flags] -- command args…`. */
export function registerRunCommand(program: Command, lazy: Lazy): void {
  addLoadFlags(
    program
      .command('run')
      .description(
        'load and validate configuration (from the stores SECRETS_BACKEND names, when set), then run a command with it in its environment; signals are forwarded and its exit code passed through',
      )
      .argument('<command...>', 'the command and its arguments (after -- when they have options)')
      .option(
        '--pass-credential <name>',
        'pass this credential on to the command (repeatable); by default custos removes the ones it loads the configuration with, and the variables pointing at them: CUSTOS_TOKEN, VAULT_TOKEN, CUSTOS_SECRET_ID, VAULT_SECRET_ID, CUSTOS_ENV_KEY, CUSTOS_ENV_KEY_<MODE>, CUSTOS_ENV_KEYS_FILE (and *_FILE forms)',
        (value: string, previous: string[]) => [...previous, value],
        [] as string[],
      )
      // Everything after the command name belongs to the command, not to custos.
      .passThroughOptions(),
  ).action(lazy(() => import('./run.js')));
}
