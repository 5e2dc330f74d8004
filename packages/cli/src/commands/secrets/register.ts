import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addOutputFlags } from '../../output-flags.js';
import { addServerFlags } from '../../server-flags.js';

/** `custos secrets enable|disable|list|tune`: secrets engines at `sys/mounts`, as `vault secrets`. */
export function registerSecretsCommands(program: Command, lazy: Lazy): void {
  const secrets = program
    .command('secrets')
    .description('list, enable, disable and tune secrets engines (KV version 1 and 2 at any path)');
  addOutputFlags(
    secrets
      .command('list')
      .description('list the mounted secrets engines')
      .option('--detailed', 'accepted for Vault scripts; the table is the same')
      .action(lazy(() => import('./list.js'))),
    false,
  );
  secrets
    .command('enable')
    .description('mount a secrets engine at a path: kv (version 1 unless --version 2), kv-v2')
    .argument('<type>', 'kv, kv-v1 or kv-v2')
    .option('--path <path>', 'where to mount it (default: the type)')
    .option('--description <text>', 'a description of the mount')
    .option('--version <n>', 'KV version (kv only)')
    .option('--default-lease-ttl <duration>', 'default lease TTL')
    .option('--max-lease-ttl <duration>', 'maximum lease TTL')
    .action(lazy(() => import('./enable.js')));
  secrets
    .command('disable')
    .description('unmount the secrets engine at a path, removing all its data for good')
    .argument('<path>')
    .action(lazy(() => import('./disable.js')));
  secrets
    .command('tune')
    .description("change a mount's description and lease settings")
    .argument('<path>')
    .option('--description <text>', 'a description of the mount')
    .option('--default-lease-ttl <duration>', 'default lease TTL')
    .option('--max-lease-ttl <duration>', 'maximum lease TTL')
    .action(lazy(() => import('./tune.js')));
  for (const command of secrets.commands) addServerFlags(command);
}
