import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addServerFlags } from '../../server-flags.js';

/**
 * `custos audit verify`: check an audit log's hash chain and signed checkpoints;
 * `custos audit new-file`: start a new file for a sink the server refused.
 */
export function registerAuditCommands(program: Command, lazy: Lazy): void {
  const audit = program.command('audit').description('verify tamper-evident audit logs');
  const verify = audit
    .command('verify')
    .description('check a log for edited, removed, reordered or truncated entries (exit 1 if any)')
    .argument('<file>', 'audit log file')
    .option(
      '--public-key <file>',
      "the server's checkpoint public key (PEM or base64 DER), as a trust anchor",
    )
    .option(
      '--server',
      "also fetch the server's latest checkpoint (CUSTOS_ADDR, CUSTOS_TOKEN with sudo) to catch a cut-off end",
      false,
    )
    .option('--sink <name>', 'the sink this file belongs to, with --server', 'file')
    .option(
      '--clock-skew <duration>',
      'how far an entry may be dated after now, or before the entry preceding it',
      '5m',
    )
    .option('--format <format>', 'text or json', 'text')
    .action(lazy(() => import('./verify.js')));
  addServerFlags(verify);
  const newFile = audit
    .command('new-file')
    .description(
      'start a new file for a sink the server refused because its file no longer holds the recorded chain (CUSTOS_ADDR, CUSTOS_TOKEN with sudo); move the old file aside first',
    )
    .argument('[sink]', 'the sink to start a new file for', 'file')
    .option('--format <format>', 'text or json', 'text')
    .action(lazy(() => import('./new-file.js')));
  addServerFlags(newFile);
}
