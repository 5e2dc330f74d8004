import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';

/** `custos server`: run the server (dev mode, or production from a config file). */
export function registerServerCommand(program: Command, lazy: Lazy): void {
  program
    .command('server')
    .description(
      'run the custos server (--dev for an unsealed in-memory dev server, or --config for production)',
    )
    .option(
      '--dev',
      'dev mode: initialised and unsealed at start, root token printed, in-memory storage',
      false,
    )
    .option('--dev-root-token-id <token>', 'dev mode: use this root token instead of a random one')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8200')
    .option(
      '--storage <location>',
      'dev mode: ":memory:" (default), a SQLite file, or a postgres:// URL',
    )
    .option('--audit-file <file>', 'dev mode: write the audit log to this file')
    .option(
      '-c, --config <file>',
      'production: JSON configuration file (listen, tls, storage, audit, limits)',
    )
    .action(lazy(() => import('./run.js')));
}
