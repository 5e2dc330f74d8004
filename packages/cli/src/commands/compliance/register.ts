import { type Command, Option } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addServerFlags } from '../../server-flags.js';

/** `custos compliance report`: HIPAA §164.312 and SOC 2 controls judged on live evidence. */
export function registerComplianceCommands(program: Command, lazy: Lazy): void {
  const compliance = program
    .command('compliance')
    .description('compliance evidence read from the live server (CUSTOS_ADDR, CUSTOS_TOKEN)');
  addServerFlags(
    compliance
      .command('report')
      .description(
        'judge HIPAA §164.312 and SOC 2 controls on evidence read from the server, each claim with the command that re-checks it: exit 0 no control failed, 1 a control failed, 2 usage or connection error (needs a sudo token)',
      )
      .addOption(
        new Option('--framework <name>', 'which controls')
          .choices(['hipaa', 'soc2', 'all'])
          .default('all'),
      )
      .option('--control <id>', 'only this control (164.312(b), CC6.1, …)')
      .addOption(
        new Option('--format <format>', 'output')
          .choices(['text', 'json', 'html', 'pdf'])
          .default('text'),
      )
      .option('--out <file>', 'write the report here (needed for pdf; default: standard output)')
      .option(
        '--audit-file <file>',
        "verify this audit log's hash chain and signatures as evidence (repeatable)",
        (value: string, previous: string[] = []) => [...previous, value],
      )
      .option(
        '--audit-public-key <file>',
        "the audit log's checkpoint public key (default: from the server)",
      )
      .option(
        '--scan-report <file>',
        'a `custos scan --format json` report, as change-management evidence',
      )
      .option(
        '--drill-log <file>',
        'a `custos backup drill --record` log, as recovery-testing evidence (repeatable)',
        (value: string, previous: string[] = []) => [...previous, value],
      )
      .option(
        '--encryption-status <file>',
        'a `custos encryption status --json` report: its columns, by data class, as encryption-at-rest evidence (repeatable)',
        (value: string, previous: string[] = []) => [...previous, value],
      )
      .option(
        '--cert <file>',
        "a certificate (PEM) to list with its expiry beside the server's own (repeatable)",
        (value: string, previous: string[] = []) => [...previous, value],
      )
      .option('--ca <file>', "CA bundle for the server's TLS check (default: Node's roots)")
      .action(lazy(() => import('./report.js'))),
  );
}
