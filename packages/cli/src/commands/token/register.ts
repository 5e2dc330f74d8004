import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addOutputFlags, collectList, collectPairs } from '../../output-flags.js';
import { addServerFlags } from '../../server-flags.js';

/** `custos token create|lookup|renew|revoke|capabilities` against `auth/token/`, as `vault token`. */
export function registerTokenCommands(program: Command, lazy: Lazy): void {
  const token = program
    .command('token')
    .description('create, look up, renew and revoke tokens, and show their capabilities');
  addOutputFlags(
    token
      .command('create')
      .description('create a child token of the current one (-policy, -ttl, -orphan, …)')
      .option(
        '--policy <name>',
        'a policy of the new token (repeat or comma-separate)',
        collectList,
      )
      .option('--ttl <duration>', 'initial time to live, e.g. 1h')
      .option('--explicit-max-ttl <duration>', 'a maximum the token can never be renewed past')
      .option(
        '--period <duration>',
        'make a periodic token: each renewal sets its TTL to this (needs sudo)',
      )
      .option('--type <type>', 'service (default) or batch (not stored, not renewable)')
      .option(
        '--role <name>',
        'create the token through this token role (auth/token/create/<name>)',
      )
      .option('--display-name <name>', 'a name shown in lookups and audit logs')
      .option('--use-limit <n>', 'number of uses (0: unlimited)')
      .option('--num-uses <n>', 'same as -use-limit')
      .option('--metadata <key=value>', 'token metadata (repeatable)', collectPairs)
      .option('--id <id>', 'the token value to use (root tokens only)')
      .option('--orphan', 'create a token with no parent (needs sudo)')
      .option('--renewable', 'allow renewal (default)')
      .option('--no-renewable', 'do not allow renewal')
      .option('--no-default-policy', 'do not attach the default policy')
      .action(lazy(() => import('./create.js'))),
  );
  addOutputFlags(
    token
      .command('lookup')
      .description('show a token (default: the current one), or one by accessor with -accessor')
      .argument('[token]', 'the token (or accessor); default: the current token')
      .option('--accessor', 'the argument is an accessor')
      .action(lazy(() => import('./lookup.js'))),
  );
  addOutputFlags(
    token
      .command('renew')
      .description('extend the lease of a token (default: the current one)')
      .argument('[token]', 'the token (or accessor); default: the current token')
      .option('-i, --increment <duration>', 'requested new TTL from now, e.g. 1h')
      .option('--accessor', 'the argument is an accessor')
      .action(lazy(() => import('./renew.js'))),
  );
  token
    .command('revoke')
    .description('revoke a token and every token created from it')
    .argument('[token]', 'the token (or accessor)')
    .option('--self', 'revoke the current token')
    .option('--accessor', 'the argument is an accessor')
    .action(lazy(() => import('./revoke.js')));
  addOutputFlags(
    token
      .command('capabilities')
      .description('print the capabilities a token (default: the current one) has on a path')
      .argument('<token-or-path>', 'the token, or the path when checking the current token')
      .argument('[path]', 'the path, when a token is given')
      .option('--accessor', 'the token argument is an accessor')
      .action(lazy(() => import('./capabilities.js'))),
    false,
  );
  for (const command of token.commands) addServerFlags(command);
}
