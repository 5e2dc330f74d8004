import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addServerFlags } from '../../server-flags.js';

/** Options every command that reads an encrypted table takes. */
export function addTargetOptions(command: Command): Command {
  return addServerFlags(command)
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
    )
    .option(
      '--blind-index-key-name <name>',
      'keyring key of blind indexes (never the encryption key)',
      'blind-index',
    )
    .option(
      '--transit-key <name>',
      'KMS mode: transit key wrapping the data keys, on the server at CUSTOS_ADDR (token CUSTOS_TOKEN; VAULT_ADDR/VAULT_TOKEN also read)',
    )
    .option('--transit-mount <path>', 'KMS mode: transit mount on the server', 'transit')
    .option(
      '--kms-file <file>',
      'KMS mode: the --transit-key is in this local KMS file (LocalKms, mode 0600), not on a server',
    )
    .option(
      '--kms-env',
      "KMS mode: the provider KMS_PROVIDER selects (aws, azure, gcp, pkcs11, custos, vault, local), read from the environment as the application's openKmsFromEnvironment() reads it",
      false,
    );
}

/** `custos reencrypt`. */
export function registerReencryptCommand(program: Command, lazy: Lazy): void {
  addTargetOptions(
    program
      .command('reencrypt')
      .description(
        're-encrypt column values under the primary key version (after a rotation), resumably',
      )
      .addHelpText(
        'after',
        "\nKeys: --keyring <file> (keyring mode), or --transit-key <name> (KMS mode: data keys wrapped by\nthe server's transit engine, or by a local KMS file with --kms-file), or --kms-env (KMS mode: the\nprovider KMS_PROVIDER and its variables select, as in the application), with --keyring alongside\nfor deterministic columns.\nBlind indexes: after custos keyring rotate --blind-index (or to move legacy indexes derived from the\nencryption key), --blind-index email=email_bidx recomputes every index not under the blind-index key's\nprimary from the decrypted value, resumably; --retire-old-versions then retires the older versions.",
      ),
  )
    .option(
      '--keyring <file>',
      'keyring file (mode 0600); with --transit-key, the keys of deterministic columns',
    )
    .option('--batch <rows>', 'rows per batch and transaction', '1000')
    .option('--dry-run', 'count what would change; write nothing', false)
    .option('--encrypt-plaintext', 'also encrypt plaintext values (migrating a column)', false)
    .option('--deterministic <a,b>', 'columns whose plaintext is encrypted deterministically')
    .option('--pad-block <bytes>', 'pad plaintext being encrypted to a multiple of this size')
    .option('--no-verify', 'skip the final pass that checks every row decrypts under the primary')
    .option(
      '--blind-index <column=index,…>',
      'rewrite these blind indexes under the blind-index key primary instead of re-encrypting (e.g. email=email_bidx)',
    )
    .option('--index-normalize', 'the blind indexes were computed with normalize: true', false)
    .option('--index-bits <bits>', 'bits the blind indexes keep (default 64)')
    .option('--index-slow', 'the blind indexes are slow (Argon2id, default parameters)', false)
    .option(
      '--retire-old-versions',
      'after a complete --blind-index run, disable the older blind-index key versions in --keyring (refused while any row is not done)',
      false,
    )
    .option('--json', 'print the report as JSON', false)
    .action(lazy(() => import('./run.js')));
}
