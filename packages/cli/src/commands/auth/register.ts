import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addOutputFlags } from '../../output-flags.js';
import { addServerFlags } from '../../server-flags.js';

/** `custos auth enable|disable|list`: auth methods at `sys/auth`, as `vault auth`. */
export function registerAuthCommands(program: Command, lazy: Lazy): void {
  const auth = program
    .command('auth')
    .description('list, enable and disable auth methods (AppRole at any path; token/ is fixed)');
  addOutputFlags(
    auth
      .command('list')
      .description('list the enabled auth methods')
      .option('--detailed', 'accepted for Vault scripts; the table is the same')
      .action(lazy(() => import('./list.js'))),
    false,
  );
  auth
    .command('enable')
    .description('enable an auth method at a path under auth/ (approle)')
    .argument('<type>', 'e.g. approle')
    .option('--path <path>', 'where to mount it (default: the type)')
    .option('--description <text>', 'a description of the mount')
    .action(lazy(() => import('./enable.js')));
  auth
    .command('disable')
    .description('disable the auth method at a path, removing its roles and secret IDs')
    .argument('<path>')
    .action(lazy(() => import('./disable.js')));
  for (const command of auth.commands) addServerFlags(command);
}
