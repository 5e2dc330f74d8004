import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addOutputFlags } from '../../output-flags.js';
import { addServerFlags } from '../../server-flags.js';

/** `custos secrets enable|disable|list|tune`: secrets engines at `sys/mounts`, as `vault secrets`. */
export function registerSecretsCommands(program: Command, lazy: Lazy): void {
  const secrets = program
    .command('secrets')
    .description(
      'list, enable, disable and tune secrets engines (custos: secret/ and transit/ are fixed)',
    );
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
    .description('mount a secrets engine at a path (a server with fixed mounts refuses it)')
    .argument('<type>', 'e.g. kv, kv-v2, transit')
    .option('--path <path>', 'where to mount it (default: the type)')
    .option('--description <text>', 'a description of the mount')
    .option('--version <n>', 'KV version (kv only)')
    .option('--default-lease-ttl <duration>', 'default lease TTL')
    .option('--max-lease-ttl <duration>', 'maximum lease TTL')
    .action(lazy(() => import('./enable.js')));
  secrets
    .command('disable')
    .description('unmount the secrets engine at a path (a server with fixed mounts refuses it)')
    .argument('<path>')
    .action(lazy(() => import('./disable.js')));
  secrets
    .command('tune')
    .description("change a mount's settings (a server with fixed mounts refuses it)")
    .argument('<path>')
    .option('--description <text>', 'a description of the mount')
    .option('--default-lease-ttl <duration>', 'default lease TTL')
    .option('--max-lease-ttl <duration>', 'maximum lease TTL')
    .action(lazy(() => import('./tune.js')));
  for (const command of secrets.commands) addServerFlags(command);
}
