import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addOutputFlags } from '../../output-flags.js';
import { addServerFlags } from '../../server-flags.js';

/**
 * `custos read|write|list|delete|patch <path>`: any API path, as `vault read …` and the others
 * send it (CUSTOS_ADDR/VAULT_ADDR, CUSTOS_TOKEN/VAULT_TOKEN).
 */
export function registerGenericCommands(program: Command, lazy: Lazy): void {
  const commands = [
    program
      .command('read')
      .description('read any API path, e.g. secret/data/app or auth/approle/role/app/role-id')
      .argument('<path>')
      .argument('[query...]', 'key=value query parameters')
      .action(lazy(() => import('./read.js'))),
    program
      .command('write')
      .description('write key=value pairs (key=@file, key=-, or - for a JSON body) to any API path')
      .argument('<path>')
      .argument('[data...]', 'key=value (key=@file reads a file, key=- reads stdin)')
      .option('-f, --force', 'write even without data (e.g. to create a secret ID)')
      .action(lazy(() => import('./write.js'))),
    program
      .command('patch')
      .description('merge key=value pairs into the data at any API path (JSON merge patch)')
      .argument('<path>')
      .argument('[data...]', 'key=value (key=@file reads a file, key=- reads stdin)')
      .option('-f, --force', 'patch even without data')
      .action(lazy(() => import('./patch.js'))),
    program
      .command('list')
      .description('list the keys under any API path, e.g. secret/metadata/app')
      .argument('<path>')
      .action(lazy(() => import('./list.js'))),
    program
      .command('delete')
      .description('delete the data at any API path')
      .argument('<path>')
      .action(lazy(() => import('./delete.js'))),
  ];
  for (const command of commands) {
    addOutputFlags(command, command.name() !== 'delete' && command.name() !== 'list');
    addServerFlags(command);
  }
}
