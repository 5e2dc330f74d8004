import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';

/** Options every command that reads an encrypted table takes. */
export function addTargetOptions(command: Command): Command {
  return command
    .requiredOption('--db <location>', 'SQLite file path, or postgres://… URL (?schema= optional)')
    .requiredOption('--table <name>', 'table holding the encrypted columns')
    .requiredOption('--columns <a,b>', 'encrypted columns, comma-separated')
    .option(
      '--id-column <column>',
      'unique ordered key (paginates, and binds values to rows)',
      'id',
    )
    .option('--tenant-column <column>', 'column holding the tenant id bound to each value')
    .option('--no-bind-row', 'the application does not bind values to row ids (Drizzle columns)')
    .option(
      '--context-table <name>',
      'table name the application binds (default: --table without schema)',
    )
    .option('--key-name <name>', 'keyring key that encrypts', 'default')
    .option(
      '--deterministic-key-name <name>',
      'keyring key of deterministic columns',
      'deterministic',
    );
}

/** `custos reencrypt`. */
export function registerReencryptCommand(program: Command, lazy: Lazy): void {
  addTargetOptions(
    program
      .command('reencrypt')
      .description(
        're-encrypt column values under the primary key version (after a rotation), resumably',
      ),
  )
    .requiredOption('--keyring <file>', 'keyring file (mode 0600)')
    .option('--batch <rows>', 'rows per batch and transaction', '1000')
    .option('--dry-run', 'count what would change; write nothing', false)
    .option('--encrypt-plaintext', 'also encrypt plaintext values (migrating a column)', false)
    .option('--deterministic <a,b>', 'columns whose plaintext is encrypted deterministically')
    .option('--pad-block <bytes>', 'pad plaintext being encrypted to a multiple of this size')
    .option('--no-verify', 'skip the final pass that checks every row decrypts under the primary')
    .option('--json', 'print the report as JSON', false)
    .action(lazy(() => import('./run.js')));
}
