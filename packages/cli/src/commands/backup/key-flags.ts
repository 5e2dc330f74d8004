import type { Command } from 'commander';
import { addServerFlags } from '../../server-flags.js';

const repeat = (value: string, previous: string[] = []) => [...previous, value];

/** The flags naming who may open a new backup or protected file (encrypt, protect). */
export function addRecipientFlags(command: Command): Command {
  return addServerFlags(
    command
      .option(
        '-r, --recipient <recipient>',
        'X25519 recipient (custos-backup-recipient-…); repeatable',
        repeat,
      )
      .option(
        '--key-file <file>',
        'key file: 32 bytes as hex or base64, mode 0600; repeatable',
        repeat,
      )
      .option('--passphrase-file <file>', 'file holding the passphrase (mode 0600); Argon2id')
      .option(
        '--transit-key <name>',
        'transit key on the server (CUSTOS_ADDR) that wraps the file key',
      )
      .option('--transit-mount <path>', 'transit mount on the server', 'transit'),
  );
}

/** The flags naming keys that open a backup or protected file (decrypt, verify, unprotect). */
export function addIdentityFlags(command: Command): Command {
  return addServerFlags(
    command
      .option(
        '-i, --identity <file>',
        'X25519 identity file (custos backup keygen); repeatable',
        repeat,
      )
      .option(
        '--key-file <file>',
        'key file: 32 bytes as hex or base64, mode 0600; repeatable',
        repeat,
      )
      .option('--passphrase-file <file>', 'file holding the passphrase (mode 0600)')
      .option(
        '--transit-mount <path>',
        'transit mount on the server, for transit-key backups',
        'transit',
      )
      .addHelpText(
        'after',
        '\nA backup encrypted to a transit key is opened by the server at CUSTOS_ADDR with CUSTOS_TOKEN\n(or VAULT_ADDR / VAULT_TOKEN): custos asks it to decrypt the file key, and the data never leaves\nthis machine. One encrypted to a KMS (--kms-env) is opened by the KMS that KMS_PROVIDER and its\nvariables select, when the file names that provider.',
      ),
  );
}
