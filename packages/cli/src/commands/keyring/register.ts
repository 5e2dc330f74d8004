import { type Command, Option } from 'commander';
import type { Lazy } from '../../lazy.js';

const algorithms = ['aes-256-gcm', 'chacha20-poly1305', 'aes-256-gcm-siv'];

/** `custos keyring create|add|rotate|show`. */
export function registerKeyringCommands(program: Command, lazy: Lazy): void {
  const keyring = program
    .command('keyring')
    .description('create, rotate and inspect keyring files (symmetric keys with versions)');
  keyring
    .command('create')
    .description('create a keyring file (mode 0600) holding one new key')
    .requiredOption('-o, --out <file>', 'file to write; refused if it exists unless --force')
    .option('-n, --name <name>', 'name of the key', 'default')
    .addOption(
      new Option('-a, --algorithm <algorithm>', 'key algorithm')
        .choices(algorithms)
        .default('aes-256-gcm'),
    )
    .option('-f, --force', 'replace an existing file', false)
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
    .description('add a new primary version to a key; older versions keep decrypting')
    .requiredOption('-f, --file <file>', 'keyring file')
    .option('-n, --name <name>', 'key to rotate (required when the file holds several keys)')
    .action(lazy(() => import('./rotate.js')));
  keyring
    .command('show')
    .description('print key names, ids, versions, states and counters (never key material)')
    .requiredOption('-f, --file <file>', 'keyring file')
    .option('--json', 'print JSON', false)
    .action(lazy(() => import('./show.js')));
}
