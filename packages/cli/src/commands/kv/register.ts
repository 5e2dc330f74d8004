import { type Command, InvalidArgumentError } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addServerFlags } from '../../server-flags.js';

const version = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError('expected a non-negative integer');
  return n;
};
const versions = (value: string) => value.split(',').map((v) => version(v.trim()));

/** `custos kv put|patch|get|list|delete|undelete|destroy|metadata` against KV v2 at `secret/`. */
export function registerKvCommands(program: Command, lazy: Lazy): void {
  const kv = program
    .command('kv')
    .description('read and write KV v2 secrets (CUSTOS_ADDR, CUSTOS_TOKEN)');
  const mount = '--mount <mount>';
  const mountHelp = 'KV v2 mount';
  kv.command('put')
    .description('write a new version: key=value pairs (key=@file reads a file, key=- reads stdin)')
    .argument('<path>')
    .argument('<pairs...>', 'key=value')
    .option(mount, mountHelp, 'secret')
    .option(
      '--cas <version>',
      'write only if the current version is this (0: only if absent)',
      version,
    )
    .action(lazy(() => import('./put.js')));
  kv.command('patch')
    .description('merge key=value pairs into the current version, as a new version')
    .argument('<path>')
    .argument('<pairs...>', 'key=value')
    .option(mount, mountHelp, 'secret')
    .option('--cas <version>', 'patch only if the current version is this', version)
    .action(lazy(() => import('./patch.js')));
  kv.command('get')
    .description('read the latest (or --version) version of a secret')
    .argument('<path>')
    .option(mount, mountHelp, 'secret')
    .option('--version <n>', 'version to read', version)
    .option('--field <name>', 'print only this field, raw')
    .option('--format <format>', 'text or json', 'text')
    .action(lazy(() => import('./get.js')));
  kv.command('list')
    .description('list keys and folders under a path')
    .argument('[path]', 'folder', '')
    .option(mount, mountHelp, 'secret')
    .option(
      '--class <class>',
      'only keys of this data class (PHI, PII, credential, payment, internal), and the folders',
    )
    .action(lazy(() => import('./list.js')));
  for (const [name, description] of [
    ['delete', 'soft-delete the latest version (or --versions)'],
    ['undelete', 'restore soft-deleted --versions'],
    ['destroy', 'permanently destroy the data of --versions'],
  ] as const) {
    kv.command(name)
      .description(description)
      .argument('<path>')
      .option(mount, mountHelp, 'secret')
      .option('--versions <list>', 'comma-separated version numbers', versions)
      .action(lazy(async () => ({ run: (await import('./versions.js')).runFor(name) })));
  }
  const metadata = kv
    .command('metadata')
    .description('read, change or delete a key and all its versions');
  metadata
    .command('get')
    .description("show a key's settings, custom metadata and every version's state")
    .argument('<path>')
    .option(mount, mountHelp, 'secret')
    .option('--format <format>', 'text or json', 'text')
    .action(lazy(() => import('./metadata-get.js')));
  metadata
    .command('put')
    .description(
      "change a key's settings and custom metadata (creates the key's metadata if it has none)",
    )
    .argument('<path>')
    .option(mount, mountHelp, 'secret')
    .option('--max-versions <n>', 'versions to keep', version)
    .option('--cas-required', 'require check-and-set on every write')
    .option('--no-cas-required', 'do not require check-and-set')
    .option(
      '--delete-version-after <duration>',
      'soft-delete versions this long after they are written (e.g. 720h)',
    )
    .option('--custom-metadata <pair...>', 'key=value metadata (not secret)')
    .action(lazy(() => import('./metadata-put.js')));
  metadata
    .command('delete')
    .description('delete the key, every version and its metadata, for good')
    .argument('<path>')
    .option(mount, mountHelp, 'secret')
    .action(lazy(() => import('./metadata-delete.js')));
  for (const command of [...kv.commands, ...metadata.commands]) {
    if (command.commands.length === 0) addServerFlags(command);
  }
}
