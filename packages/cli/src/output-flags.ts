import type { Command } from 'commander';

/**
 * Adds Vault's output flags to a command: `-format` (table or json; default `VAULT_FORMAT`, else
 * table) and, with `withField`, `-field` (print one value, raw). Kept apart from the printing
 * code so registering commands (`custos --help`) loads nothing but commander.
 */
export function addOutputFlags(command: Command, withField = true): Command {
  command.option('--format <format>', 'table or json (default: VAULT_FORMAT, else table)');
  if (withField) command.option('--field <name>', 'print only this field, raw');
  return command;
}

/** Collects a repeatable flag (`-policy a -policy b,c`) into a list, splitting commas as Vault does. */
export function collectList(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== ''),
  ];
}

/** Collects a repeatable `key=value` flag (`-metadata owner=ops`) without splitting it. */
export function collectPairs(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
