import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Lazy } from '../../lazy.js';

/** `custos scan`: secrets in files, directories, standard input, git history and the index. */
export function registerScanCommand(program: Command, lazy: Lazy): void {
  const scan = program
    .command('scan')
    .description(
      'find leaked secrets in files and directories (default: .), standard input, git history or staged changes; exit 1 when any is found (always redacted)',
    )
    .argument('[paths...]', 'files and directories to scan (.gitignore and .custosignore followed)')
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(['text', 'json', 'sarif'])
        .default('text'),
    )
    .option('--stdin', 'scan standard input instead of files', false)
    .option('--name <file>', 'with --stdin: the file name to report (and judge the syntax by)')
    .option(
      '--git',
      'scan git history, each blob once, reporting the commit that introduced each secret',
      false,
    )
    .option('--since <rev>', 'with --git: only what is new since this revision')
    .option('--branch <name>', 'with --git: only this branch (default: every ref)')
    .option('--staged', 'scan the lines staged for the next commit (the pre-commit check)', false)
    .option(
      '--baseline <file>',
      'a JSON report of accepted findings: only new secrets are reported',
    )
    .option(
      '--config <file>',
      'scanner settings: allowlist, baseline, limits (default: .custos-scan.json if present)',
    )
    .addOption(
      new Option('--min-confidence <level>', 'report only findings at least this sure')
        .choices(['high', 'medium', 'low'])
        .default('low'),
    )
    .option('--max-file-size <bytes>', 'skip larger files', parseByteCount)
    .option('--scan-minified', 'scan minified and generated files too', false)
    .option('--no-gitignore', 'do not follow .gitignore (.custosignore still applies)')
    .option(
      '--cache',
      'keep findings by file content in .custos-scan-cache: the next run scans only what changed',
      false,
    )
    .option('--cache-location <file>', 'where to keep the scan cache (implies --cache)')
    .option(
      '--workers <n>',
      'worker threads besides the main one (default: one per other core for large trees and long histories)',
      parseWorkers,
    )
    .action(lazy(() => import('./run.js')));

  scan
    .command('install-hook')
    .description('write a git pre-commit hook that runs custos scan --staged')
    .option('--force', 'replace an existing pre-commit hook', false)
    .action(lazy(() => import('./install-hook.js')));
}

function parseByteCount(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a positive number of bytes, got "${value}"`);
  }
  return n;
}

function parseWorkers(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 64) {
    throw new InvalidArgumentError(`expected an integer from 0 to 64, got "${value}"`);
  }
  return n;
}
