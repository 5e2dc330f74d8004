import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addOutputFlags } from '../../output-flags.js';
import { addServerFlags } from '../../server-flags.js';

/**
 * `custos rotate …` (rotate secrets now, plan a rotation, or rotate every secret of a rotator
 * in an emergency) and `custos rotation status|history|requests|approve|continue|abandon`
 * (docs/rotation.md).
 */
export function registerRotationCommands(program: Command, lazy: Lazy): void {
  const rotate = addOutputFlags(
    program
      .command('rotate')
      .description(
        'rotate secrets by their rotation policy: exit 0 done, 1 a rotation failed and rolled back, 2 usage or configuration error',
      )
      .argument('[secrets...]', 'the secrets, as <mount>/<path> (secret/app/db)')
      .option('--dry-run', 'run the preflight and create steps and print the plan; change nothing')
      .option('--force', 'rotate now, whether or not the schedule says it is due (needs --reason)')
      .option('--reason <text>', 'why (recorded in the history and the audit log)')
      .option('--all', 'every secret whose policy uses the rotator named by --type (needs --force)')
      .option(
        '--type <rotator>',
        'with --all: the rotator (random, redis-acl, postgres-password, …)',
      )
      .action(lazy(() => import('./rotate.js'))),
    false,
  );
  addServerFlags(rotate);
  const rotation = program
    .command('rotation')
    .description('rotation status, history, approvals and continuing (CUSTOS_ADDR, CUSTOS_TOKEN)');
  addOutputFlags(
    rotation
      .command('status')
      .description('every rotation policy: last rotation, next due, overdue, last result')
      .action(lazy(() => import('./status.js'))),
    false,
  );
  addOutputFlags(
    rotation
      .command('history')
      .description("a secret's rotations: who, when, why, steps, result, fingerprints")
      .argument('<secret>', '<mount>/<path>')
      .action(lazy(() => import('./history.js'))),
    false,
  );
  addOutputFlags(
    rotation
      .command('requests')
      .description('rotations waiting for two-person approval: who asked, who approved, until when')
      .action(lazy(() => import('./requests.js'))),
    false,
  );
  addOutputFlags(
    rotation
      .command('approve')
      .description(
        'approve a rotation request (another person than the requester); the last approval runs the rotation',
      )
      .argument('<id>', 'the request id (`custos rotation requests`)')
      .action(lazy(() => import('./approve.js'))),
    false,
  );
  addOutputFlags(
    rotation
      .command('continue')
      .description(
        "continue a secret's last rotation where it stopped: its background work (a transit-key rewrap, from the saved progress) or a failed finish; exit 0 continued, 1 it failed again, 2 nothing to continue or usage error",
      )
      .argument('<secret>', '<mount>/<path>')
      .option('--wait', 'follow the background work until it ends (exit 1 if it fails)')
      .action(lazy(() => import('./continue.js'))),
    false,
  );
  addOutputFlags(
    rotation
      .command('abandon')
      .description(
        "end a secret's stuck background work (a rewrap that can never succeed) as abandoned, so it may rotate again; needs sudo; the old value is then never retired automatically; exit 0 abandoned, 2 nothing to abandon, no permission or usage error",
      )
      .argument('<secret>', '<mount>/<path>')
      .option('--reason <text>', 'why (required; recorded in the history and the audit log)')
      .action(lazy(() => import('./abandon.js'))),
    false,
  );
  for (const command of rotation.commands) addServerFlags(command);
}
