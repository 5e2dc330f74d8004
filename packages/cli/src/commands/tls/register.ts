import { type Command, Option } from 'commander';
import type { Lazy } from '../../lazy.js';
import { parseWarnDays } from './warn-days.js';

/** `custos tls check`: what a TLS endpoint offers and presents. */
export function registerTlsCommands(program: Command, lazy: Lazy): void {
  const tls = program.command('tls').description('check TLS endpoints');
  tls
    .command('check')
    .description(
      'check a TLS endpoint: protocol versions (TLS 1.0/1.1 offered fails), cipher, chain, host name, expiry, OCSP stapling, HSTS (exit 1 on any failure)',
    )
    .argument('<host:port>', 'the endpoint ([v6 address]:port for IPv6)')
    .option('--servername <name>', 'the name to ask for (SNI) and match (default: the host)')
    .option('--ca <file>', "trusted CA bundle (default: Node's bundled roots)")
    .option('--warn-days <n>', 'fail when the certificate expires in fewer days', parseWarnDays, 30)
    .addOption(new Option('--format <format>', 'output').choices(['text', 'json']).default('text'))
    .action(lazy(() => import('./check.js')));
}
