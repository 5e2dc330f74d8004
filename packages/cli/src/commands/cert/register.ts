import { type Command, Option } from 'commander';
import type { Lazy } from '../../lazy.js';
import { parseWarnDays } from '../tls/warn-days.js';

/** `custos cert check`: a certificate file's expiry, chain, key match and strength. */
export function registerCertCommands(program: Command, lazy: Lazy): void {
  const cert = program.command('cert').description('check certificate files');
  cert
    .command('check')
    .description(
      'check a certificate: expiry, chain to a trusted CA, key match, weak keys and signature algorithms (exit 1 on any failure)',
    )
    .argument('<file>', 'PEM certificate, optionally followed by its intermediates')
    .option('--key <file>', 'the private key that should match it')
    .option('--ca <file>', "trusted CA bundle (default: Node's bundled roots)")
    .option('--warn-days <n>', 'fail when it expires in fewer days', parseWarnDays, 30)
    .addOption(new Option('--format <format>', 'output').choices(['text', 'json']).default('text'))
    .action(lazy(() => import('./check.js')));
}
