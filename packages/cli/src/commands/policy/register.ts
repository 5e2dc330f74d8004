import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addOutputFlags } from '../../output-flags.js';
import { addServerFlags } from '../../server-flags.js';

/**
 * `custos policy write|read|list|delete`: ACL policies at `sys/policies/acl/`, as `vault policy`;
 * and custos's own `custos policy explain`.
 */
export function registerPolicyCommands(program: Command, lazy: Lazy): void {
  const policy = program
    .command('policy')
    .description('write, read, list and delete ACL policies (CUSTOS_ADDR, CUSTOS_TOKEN)');
  addOutputFlags(
    policy
      .command('write')
      .description(
        "create or replace a policy from a file or stdin (-), in HCL or Vault's JSON form",
      )
      .argument('<name>')
      .argument('<file>', 'the policy file, or - for stdin')
      .action(lazy(() => import('./write.js'))),
    false,
  );
  addOutputFlags(
    policy
      .command('read')
      .description('print a policy')
      .argument('<name>')
      .action(lazy(() => import('./read.js'))),
    false,
  );
  addOutputFlags(
    policy
      .command('list')
      .description('list the policy names')
      .action(lazy(() => import('./list.js'))),
    false,
  );
  addOutputFlags(
    policy
      .command('explain')
      .description('say which policy rule allows or denies an operation, and why')
      .requiredOption('--token-accessor <accessor>', 'the accessor of the token to explain')
      .requiredOption('--path <path>', 'the API path, e.g. secret/data/app/db')
      .requiredOption('--operation <operation>', 'create, read, update, patch, delete or list')
      .option(
        '--parameters <json>',
        "the request's parameters as a JSON object, judged against the rule's constraints",
      )
      .option('--sudo', 'the path also needs sudo')
      .action(lazy(() => import('./explain.js'))),
    false,
  );
  policy
    .command('delete')
    .description('delete a policy (tokens that name it lose its grants)')
    .argument('<name>')
    .action(lazy(() => import('./delete.js')));
  for (const command of policy.commands) addServerFlags(command);
}
