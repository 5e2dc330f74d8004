import { type Command, Option } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addIdentityFlags, addRecipientFlags } from '../backup/key-flags.js';

const algorithms = ['aes-256-gcm', 'chacha20-poly1305', 'aes-256-gcm-siv'];

/** `custos keyring create|add|rotate|show|protect|unprotect`. */
export function registerKeyringCommands(program: Command, lazy: Lazy): void {
  const keyring = program
    .command('keyring')
    .description('create, rotate and inspect keyring files (symmetric keys with versions)');
  keyring
    .command('create')
    .description(
      'create a keyring file (mode 0600) holding one new key, and the blind-index key beside it',
    )
    .requiredOption('-o, --out <file>', 'file to write; refused if it exists unless --force')
    .option('-n, --name <name>', 'name of the key', 'default')
    .addOption(
      new Option('-a, --algorithm <algorithm>', 'key algorithm')
        .choices(algorithms)
        .default('aes-256-gcm'),
    )
    .option('-f, --force', 'replace an existing file', false)
    .option('--no-blind-index', 'leave out the "blind-index" key (blind indexes need it)')
    .action(lazy(() => import('./create.js')));
  keyring
    .command('add')
    .description('add a new named key to an existing keyring file')
    .requiredOption('-f, --file <file>', 'keyring file')
    .requiredOption('-n, --name <name>', 'name of the new key')
    .addOption(
      new Option('-a, --algorithm <algorithm>', 'key algorithm')
        .choices(algorithms)
        .default('aes-256-gcm'),
    )
    .action(lazy(() => import('./add.js')));
  keyring
    .command('rotate')
    .description(
      'add a new primary version to keys; older versions keep decrypting (then run custos reencrypt)',
    )
    .requiredOption('-f, --file <file>', 'keyring file')
    .option('-n, --name <name>', 'rotate only this key (deterministic ones included)')
    .option('--all', 'rotate every key, deterministic ones included (not "blind-index")', false)
    .option(
      '--blind-index',
      'rotate only the "blind-index" key (deliberate: then custos reencrypt --blind-index)',
      false,
    )
    .addHelpText(
      'after',
      '\nWithout --name or --all, every randomised key rotates and deterministic (aes-256-gcm-siv)\nkeys are skipped: until custos reencrypt has run, equality lookups on a deterministic column\nmatch only the version they are computed under (use deterministicCandidates meanwhile).\nThe "blind-index" key rotates only with --blind-index (or --name blind-index): every index\nthen needs rewriting (custos reencrypt --blind-index), lookups use blindIndexCandidates meanwhile.',
    )
    .action(lazy(() => import('./rotate.js')));
  keyring
    .command('show')
    .description('print key names, ids, versions, states and counters (never key material)')
    .requiredOption('-f, --file <file>', 'keyring file')
    .option('--json', 'print JSON', false)
    .action(lazy(() => import('./show.js')));

  addRecipientFlags(
    keyring
      .command('protect')
      .description(
        'wrap a keyring file (in place) for a passphrase, X25519 recipient, key file or transit key',
      )
      .requiredOption('-f, --file <file>', 'keyring file')
      .option('-o, --out <file>', 'write here instead of replacing the file')
      .addHelpText(
        'after',
        '\nLoaders open a protected file with CUSTOS_KEY_PASSPHRASE_FILE, CUSTOS_KEY_IDENTITY or\nCUSTOS_KEY_KEY_FILE (or CUSTOS_ADDR and CUSTOS_TOKEN for a transit key); commands that change it\nwrite it back protected for the same keys. See docs/backups.md.',
      ),
  ).action(lazy(() => import('./protect.js')));
  addIdentityFlags(
    keyring
      .command('unprotect')
      .description('write a protected keyring file back in the clear (mode 0600)')
      .requiredOption('-f, --file <file>', 'protected keyring file')
      .option('-o, --out <file>', 'write here instead of replacing the file'),
  ).action(lazy(() => import('./unprotect.js')));
}
