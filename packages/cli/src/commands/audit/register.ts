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
    .description(
      'check a log, or a set of its files in any order (rotated and current), for edited, removed, reordered or truncated entries and missing files (exit 1 if any)',
    )
    .argument('<files...>', 'audit log files of one sink')
    .option(
      '--allow-earlier-files',
      'with several files: a set that begins after the chain start (earlier files neither given nor deleted by retention) is a warning, not a problem',
      false,
    )
    .option(
      '--public-key <file>',
      "the server's checkpoint public key (PEM or base64 DER), as a trust anchor",
    )
    .option(
      '--server',
      "also fetch the server's latest checkpoint (CUSTOS_ADDR, CUSTOS_TOKEN with sudo) to catch a cut-off end",
      false,
    )
    .option('--sink <name>', 'the sink these files belong to, with --server', 'file')
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
