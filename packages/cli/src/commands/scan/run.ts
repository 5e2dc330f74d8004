import { CustosError } from '@custos/core/errors';
import type { ScanReport } from '@custos/scan';
// The light entry only: the pre-commit check (`--staged`) must start quickly, so directory
// walking, worker threads, the cache, SARIF and the progress bar load when a mode needs them.
import {
  type Finding,
  formatText,
  isGitleaksIgnored,
  scanStaged,
  scanText,
  toJsonReport,
} from '@custos/scan/light';
import { ExitCode } from '../../exit-codes.js';
import { print, warn } from '../../output.js';
import { loadSettings, type ScanSettings, type SettingsFlags } from './settings.js';

interface Options extends SettingsFlags {
  format: 'text' | 'json' | 'sarif';
  stdin: boolean;
  name?: string;
  git: boolean;
  since?: string;
  branch?: string;
  staged: boolean;
  gitignore: boolean;
  workers?: number;
  cache: boolean;
  cacheLocation?: string;
}

/** Where `--cache` keeps the scan cache unless `--cache-location` says. */
const DEFAULT_CACHE_FILE = '.custos-scan-cache';

function usage(message: string): CustosError {
  return new CustosError('ERR_INVALID_ARGUMENT', message);
}

function checkModes(paths: readonly string[], options: Options): void {
  const modes = [options.stdin, options.git, options.staged].filter(Boolean).length;
  if (modes > 1) throw usage('choose one of --stdin, --git and --staged');
  if (modes === 1 && paths.length > 0)
    throw usage('paths cannot be combined with --stdin, --git or --staged');
  if (options.name !== undefined && !options.stdin) throw usage('--name goes with --stdin');
  if ((options.since !== undefined || options.branch !== undefined) && !options.git) {
    throw usage('--since and --branch go with --git');
  }
  if ((options.cache || options.cacheLocation !== undefined) && modes > 0) {
    throw usage('--cache and --cache-location go with a scan of files and directories');
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function findSecrets(paths: readonly string[], options: Options): Promise<Finding[]> {
  const { gitleaksIgnore, ...settings } = await loadSettings(options);
  const found = await scan(paths, options, settings, gitleaksIgnore);
  return found.filter((finding) => !isGitleaksIgnored(gitleaksIgnore, finding));
}

/** A progress bar on stderr when it is a terminal. */
async function progressDisplay(unit: string) {
  return process.stderr.isTTY
    ? (await import('../../progress.js')).createProgress('scan', { unit })
    : null;
}

async function scan(
  paths: readonly string[],
  options: Options,
  settings: Omit<ScanSettings, 'gitleaksIgnore'>,
  gitleaksIgnore: ScanSettings['gitleaksIgnore'],
): Promise<Finding[]> {
  if (options.stdin) {
    return scanText(await readStdin(), { ...settings, name: options.name ?? '<stdin>' });
  }
  if (options.staged) return scanStaged(settings);
  const { openScanCache, scanGitHistory, scanPaths } = await import('@custos/scan');
  if (options.git) {
    const progress = await progressDisplay('blobs');
    try {
      return (
        await scanGitHistory({
          ...settings,
          // Judged at every place a secret had, before each secret is reported once.
          ignore: (finding) => isGitleaksIgnored(gitleaksIgnore, finding),
          ...(options.since !== undefined ? { since: options.since } : {}),
          ...(options.branch !== undefined ? { branch: options.branch } : {}),
          ...(options.workers !== undefined ? { workers: options.workers } : {}),
          ...(progress ? { onProgress: (p) => progress.update(p.blobsDone, p.blobsTotal) } : {}),
        })
      ).findings;
    } finally {
      progress?.stop();
    }
  }
  const cachePath = options.cacheLocation ?? (options.cache ? DEFAULT_CACHE_FILE : undefined);
  const cache = cachePath === undefined ? undefined : await openScanCache(cachePath);
  const progress = await progressDisplay('files');
  let report: ScanReport;
  try {
    report = await scanPaths(paths.length > 0 ? paths : ['.'], {
      ...settings,
      gitignore: options.gitignore,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...(cache ? { cache } : {}),
      ...(progress ? { onProgress: (p) => progress.update(p.filesDone, p.filesTotal) } : {}),
    });
  } finally {
    progress?.stop();
  }
  if (cache !== undefined) {
    await cache.save().catch((err: NodeJS.ErrnoException) => {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `cannot write the scan cache ${cachePath}: ${err.code ?? err.message}`,
      );
    });
    if (options.format === 'text') {
      warn(
        `scan cache: ${report.cachedFiles} of ${report.filesScanned} files unchanged since the last run`,
      );
    }
  }
  return report.findings;
}

/** `custos scan`: 0 nothing found, 1 secrets found, 2 usage or runtime error. */
export async function run(paths: string[], options: Options): Promise<number> {
  checkModes(paths, options);
  const findings = await findSecrets(paths, options);
  if (options.format === 'json') {
    print(JSON.stringify(toJsonReport(findings), null, 2));
  } else if (options.format === 'sarif') {
    const { defaultRules, scannerVersion, toSarif } = await import('@custos/scan');
    print(
      JSON.stringify(toSarif(findings, { rules: defaultRules, version: scannerVersion }), null, 2),
    );
  } else {
    const lines = formatText(findings);
    for (const line of lines.slice(0, -1)) print(line);
    warn(lines.at(-1) as string);
  }
  return findings.length > 0 ? ExitCode.finding : ExitCode.ok;
}
