import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addIdentityFlags, addRecipientFlags } from './key-flags.js';

const repeat = (value: string, previous: string[] = []) => [...previous, value];

/** The flags naming keys that open a backup (decrypt, verify, and the old keys of rekey). */
const addOpeningKeys = (command: Command) =>
  addIdentityFlags(
    command.option('--keyring <file>', 'keyring file (a key of it wrapped the file key)'),
  );

/** `custos backup keygen|encrypt|decrypt|verify|rekey|drill|inspect|escrow`. */
export function registerBackupCommands(program: Command, lazy: Lazy): void {
  const backup = program
    .command('backup')
    .description(
      'encrypt, decrypt, verify and rekey backups: streamed, authenticated, constant memory',
    );
  backup
    .command('keygen')
    .description(
      'write a new X25519 identity (mode 0600) and print its recipient, as age-keygen does',
    )
    .requiredOption('-o, --out <file>', 'identity file to write; refused if it exists')
    .option(
      '--passphrase-file <file>',
      'protect the identity file with this passphrase (Argon2id); decrypting then needs CUSTOS_KEY_PASSPHRASE_FILE',
    )
    .action(lazy(() => import('./keygen.js')));
  addRecipientFlags(
    backup
      .command('encrypt')
      .description(
        'encrypt a file or standard input (pg_dump | custos backup encrypt -r … > db.cbk)',
      )
      .argument('[input]', 'file to encrypt (default: standard input)')
      .option('-o, --out <file>', 'write here, atomically (default: standard output)')
      .option('--keyring <file>', 'keyring file whose key (--keyring-key) wraps the file key')
      .option('--keyring-key <name>', 'key of --keyring that wraps the file key', 'backups')
      .option(
        '--kms-env',
        'the KMS that KMS_PROVIDER selects (aws, azure, gcp, pkcs11, custos, vault, local) wraps the file key, read from the environment as the application reads it',
        false,
      )
      .addHelpText(
        'after',
        '\nWith --kms-env the file key is wrapped under a data key of the KMS, bound to the encryption context\n{purpose: custos-backup, file: <file id>}: decrypting needs the same provider (KMS_PROVIDER and its\nvariables) and the right to decrypt with the key. See docs/backups.md.',
      ),
  ).action(lazy(() => import('./encrypt.js')));
  addOpeningKeys(
    backup
      .command('decrypt')
      .description(
        'decrypt a backup; with --out the plaintext appears only once all of it is authentic',
      )
      .argument('[input]', 'backup file (default: standard input)')
      .option('-o, --out <file>', 'write here, atomically (default: standard output)'),
  ).action(lazy(() => import('./decrypt.js')));
  addOpeningKeys(
    backup
      .command('verify')
      .description(
        'authenticate a whole backup without writing plaintext (exit 1 when it is damaged)',
      )
      .argument('[input]', 'backup file (default: standard input)'),
  ).action(lazy(() => import('./verify.js')));
  addOpeningKeys(
    backup
      .command('rekey')
      .description('rewrap the file key for new recipients, without re-encrypting the data')
      .argument('<input>', 'backup file')
      .option('-o, --out <file>', 'write here (default: replace the input, atomically)')
      .option('--to-recipient <recipient>', 'new X25519 recipient; repeatable', repeat)
      .option('--to-key-file <file>', 'new key file; repeatable', repeat)
      .option('--to-passphrase-file <file>', 'new passphrase, from a file (mode 0600)')
      .option('--to-transit-key <name>', 'new transit key on the server')
      .option(
        '--to-kms-env',
        'new KMS recipient: the KMS that KMS_PROVIDER and its variables select',
        false,
      )
      .addHelpText(
        'after',
        '\nThe new recipients replace the old ones: list every key that should open the file.',
      ),
  ).action(lazy(() => import('./rekey.js')));
  addOpeningKeys(
    backup
      .command('drill')
      .description(
        'restore test: decrypt into a scratch place, check the digest, restore a pg_dump into a scratch database',
      )
      .argument('[input]', 'backup file (default: standard input)')
      .option(
        '--expect-sha256 <hex>',
        'the SHA-256 the plaintext must have (recorded at backup time)',
      )
      .option(
        '--restore-into <url>',
        'postgres:// server to restore a pg_dump into a new scratch database (dropped afterwards)',
      )
      .option(
        '--keep-database',
        'keep the scratch database for a look (its name is printed)',
        false,
      )
      .option(
        '--scratch-dir <dir>',
        'where the plaintext is decrypted (default: the temp directory)',
      )
      .option('--json', 'print the report as JSON', false)
      .option(
        '--record <file>',
        'append the outcome (passed or failed, never a key or data) to this drill log, for `custos compliance report --drill-log`',
      )
      .addHelpText(
        'after',
        '\nThe plaintext goes to a new directory (mode 0700) that is removed afterwards, whatever happens.\nA plain SQL dump is restored with psql (one transaction, stop at the first error), a custom-format\ndump (pg_dump -Fc) with pg_restore. Exit 0 when the drill passed, 1 when it found a problem\n(damage, a digest that differs, a failed restore), 2 for a missing key or a usage mistake.',
      ),
  ).action(lazy(() => import('./drill.js')));
  const escrow = backup
    .command('escrow')
    .description('offline escrow: the key material a restore needs, as one protected file');
  addRecipientFlags(
    escrow
      .command('export')
      .description(
        'bundle keyrings, keysets, KMS files and transit key backups into one encrypted file',
      )
      .requiredOption('-o, --out <file>', 'escrow file to write (a custos backup), atomically')
      .option('--escrow-keyring <file>', 'keyring file to escrow; repeatable', repeat)
      .option('--jwt-keyset <file>', 'JWT keyset file to escrow; repeatable', repeat)
      .option('--kms-file <file>', 'local KMS file to escrow; repeatable', repeat)
      .option('--file <file>', 'any other key file to escrow; repeatable', repeat)
      .option(
        '--transit-backup <name>',
        'transit key to back up from the server (exportable, allow_plaintext_backup); repeatable',
        repeat,
      )
      .option(
        '--split <t/n>',
        'also open it with a fresh key split into n Shamir shares, any t of which open it',
      )
      .option('--shares-dir <dir>', 'where --split writes its share files (mode 0600)')
      .option('--keyring <file>', 'keyring file whose key (--keyring-key) wraps the file key')
      .option('--keyring-key <name>', 'key of --keyring that wraps the file key', 'backups')
      .addHelpText(
        'after',
        '\nProtected key files are escrowed opened (CUSTOS_KEY_* unlock them): the escrow itself is the\nprotection. Keep it offline; restore with custos backup escrow import.',
      ),
  ).action(lazy(() => import('./escrow-export.js')));
  addOpeningKeys(
    escrow
      .command('import')
      .description('open an escrow file and write its key files into a directory (mode 0600)')
      .argument('<input>', 'escrow file')
      .option(
        '--out-dir <dir>',
        'directory to write the files to (existing files are never replaced)',
      )
      .option('--share <file>', 'a share file of an escrow made with --split; repeatable', repeat)
      .option('--list', 'list what the escrow holds, write nothing', false),
  ).action(lazy(() => import('./escrow-import.js')));
  backup
    .command('inspect')
    .description('show which keys open a backup, without decrypting it')
    .argument('[input]', 'backup file (default: standard input)')
    .option('--json', 'print JSON', false)
    .action(lazy(() => import('./inspect.js')));
}
