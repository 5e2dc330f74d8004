import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addIdentityFlags, addRecipientFlags } from '../backup/key-flags.js';

/** `custos kms protect|unprotect`: local KMS files (`LocalKms` of `@custos/core/kms`). */
export function registerKmsCommands(program: Command, lazy: Lazy): void {
  const kms = program
    .command('kms')
    .description('protect local KMS files (the in-process transit engine of @custos/core/kms)');
  addRecipientFlags(
    kms
      .command('protect')
      .description(
        'wrap a KMS file (in place) for a passphrase, X25519 recipient, key file or transit key',
      )
      .requiredOption('-f, --file <file>', 'KMS file')
      .option('-o, --out <file>', 'write here instead of replacing the file')
      .addHelpText(
        'after',
        '\nLocalKms.open opens a protected file with CUSTOS_KEY_PASSPHRASE_FILE, CUSTOS_KEY_IDENTITY or\nCUSTOS_KEY_KEY_FILE (or CUSTOS_ADDR and CUSTOS_TOKEN for a transit key), and save() writes it\nback protected for the same keys. See docs/backups.md.',
      ),
  ).action(lazy(() => import('./protect.js')));
  addIdentityFlags(
    kms
      .command('unprotect')
      .description('write a protected KMS file back in the clear (mode 0600)')
      .requiredOption('-f, --file <file>', 'protected KMS file')
      .option('-o, --out <file>', 'write here instead of replacing the file'),
  ).action(lazy(() => import('./unprotect.js')));
}
