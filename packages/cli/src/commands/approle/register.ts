import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addOutputFlags } from '../../output-flags.js';
import { addServerFlags } from '../../server-flags.js';

/**
 * `custos approle role …`, `custos approle role-id <role>` and `custos approle secret-id …`: AppRole roles, role IDs and secret
 * IDs at `auth/approle/` (what Vault users type as `vault write auth/approle/role/…`).
 */
export function registerAppRoleCommands(program: Command, lazy: Lazy): void {
  const approle = program
    .command('approle')
    .description('manage AppRole roles, role IDs and secret IDs (auth/approle/)');
  const role = approle.command('role').description('create, read, list and delete AppRole roles');
  role
    .command('write')
    .alias('create')
    .description('create or update a role: key=value settings (token_policies=app token_ttl=1h …)')
    .argument('<name>')
    .argument('[settings...]', 'key=value (token_policies, token_ttl, secret_id_ttl, …)')
    .action(lazy(() => import('./role-write.js')));
  addOutputFlags(
    role
      .command('read')
      .description("print a role's settings")
      .argument('<name>')
      .action(lazy(() => import('./role-read.js'))),
  );
  addOutputFlags(
    role
      .command('list')
      .description('list the roles')
      .action(lazy(() => import('./role-list.js'))),
    false,
  );
  role
    .command('delete')
    .description('delete a role and its secret IDs')
    .argument('<name>')
    .action(lazy(() => import('./role-delete.js')));
  const roleId = addOutputFlags(
    approle
      .command('role-id')
      .description("print a role's role ID")
      .argument('<name>')
      .action(lazy(() => import('./role-id.js'))),
  );
  const secretId = approle.command('secret-id').description('issue secret IDs of a role');
  addOutputFlags(
    secretId
      .command('create')
      .alias('write')
      .description('issue a new secret ID for a role (printed once), with optional metadata')
      .argument('<role>')
      .argument('[metadata...]', 'key=value metadata of the secret ID')
      .action(lazy(() => import('./secret-id-create.js'))),
  );
  for (const command of [...role.commands, ...secretId.commands, roleId]) {
    command.option('--mount <path>', 'where AppRole is mounted', 'approle');
    addServerFlags(command);
  }
}
