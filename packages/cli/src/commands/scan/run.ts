import { fstatSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CustosError } from '@custos/core/errors';
import type { ScanReport, SkippedFile } from '@custos/scan';
// The light entry only: the pre-commit check (`--staged`) must start quickly, so directory
// walking, worker threads, the cache, SARIF and the progress bar load when a mode needs them.
import {
  type Finding,
  formatText,
  isGitleaksIgnored,
  printable,
  scanStaged,
  scanText,
  toJsonReport,
} from '@custos/scan/light';
import { ExitCode } from '../../exit-codes.js';
import { plural, print, reportError, warn } from '../../output.js';
import { loadSettings, type ScanSettings, type SettingsFlags } from './settings.js';

/** What `custos scan` is run with: its options as commander parses them (register.ts). */
export interface ScanOptions extends SettingsFlags {
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

function checkModes(paths: readonly string[], options: ScanOptions): void {
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
  // Reading a directory given as standard input (`< dir`) ends at once with nothing read.
  if (fstatSync(0).isDirectory()) throw usage('standard input is a directory, not a text to scan');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** What a scan gave: its findings, the files it did not scan, and a failure after scanning. */
interface Outcome {
  readonly findings: Finding[];
  readonly skipped: readonly SkippedFile[];
  /** An error after the findings were made (the cache could not be saved): reported after them. */
  readonly failure?: CustosError;
}

async function findSecrets(paths: readonly string[], options: ScanOptions): Promise<Outcome> {
  const root = await scanRoot(paths);
  const { gitleaksIgnore, ...settings } = await loadSettings(options, root);
  const outcome = await scan({ paths, root }, options, settings, gitleaksIgnore);
  return {
    ...outcome,
    findings: outcome.findings.filter((finding) => !isGitleaksIgnored(gitleaksIgnore, finding)),
  };
}

/**
 * The directory findings are relative to and `.custosignore`, `.custos-scan.json` and
 * `.gitleaksignore` are read in: the one directory scanned (`custos scan ../other-repo` reads
 * like `cd ../other-repo && custos scan`), else the current directory.
 */
async function scanRoot(paths: readonly string[]): Promise<string> {
  if (paths.length !== 1) return process.cwd();
  const info = await stat(paths[0] as string).catch(() => null);
  return info?.isDirectory() ? resolve(paths[0] as string) : process.cwd();
}

/** A progress bar on stderr when it is a terminal. */
async function progressDisplay(unit: string) {
  return process.stderr.isTTY
    ? (await import('../../progress.js')).createProgress('scan', { unit })
    : null;
}

async function scan(
  { paths, root }: { readonly paths: readonly string[]; readonly root: string },
  options: ScanOptions,
  settings: Omit<ScanSettings, 'gitleaksIgnore'>,
  gitleaksIgnore: ScanSettings['gitleaksIgnore'],
): Promise<Outcome> {
  if (options.stdin) {
    const text = await readStdin();
    return {
      findings: scanText(text, { ...settings, name: options.name ?? '<stdin>' }),
      skipped: [],
    };
  }
  const skipped: SkippedFile[] = [];
  const onSkipped = (file: SkippedFile) => {
    skipped.push(file);
  };
  if (options.staged) return { findings: await scanStaged({ ...settings, onSkipped }), skipped };
  const { openScanCache, scanGitHistory, scanPaths } = await import('@custos/scan');
  if (options.git) {
    const progress = await progressDisplay('blobs');
    try {
      const history = await scanGitHistory({
        ...settings,
        // Judged at every place a secret had, before each secret is reported once.
        ignore: (finding) => isGitleaksIgnored(gitleaksIgnore, finding),
        onSkipped,
        ...(options.since !== undefined ? { since: options.since } : {}),
        ...(options.branch !== undefined ? { branch: options.branch } : {}),
        ...(options.workers !== undefined ? { workers: options.workers } : {}),
        ...(progress ? { onProgress: (p) => progress.update(p.blobsDone, p.blobsTotal) } : {}),
      });
      return { findings: history.findings, skipped };
    } finally {
      progress?.stop();
    }
  }
  const cachePath = options.cacheLocation ?? (options.cache ? DEFAULT_CACHE_FILE : undefined);
  const cache = cachePath === undefined ? undefined : await openScanCache(cachePath);
  const progress = await progressDisplay('files');
  let report: ScanReport;
  try {
    report = await scanPaths(paths.length > 0 ? paths.map((path) => resolve(path)) : [root], {
      ...settings,
      root,
      gitignore: options.gitignore,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...(cache ? { cache } : {}),
      ...(progress ? { onProgress: (p) => progress.update(p.filesDone, p.filesTotal) } : {}),
    });
  } finally {
    progress?.stop();
  }
  const outcome = { findings: report.findings, skipped: report.skipped };
  if (cache === undefined) return outcome;
  try {
    await cache.save();
  } catch (err) {
    // save() names the file and why (ERR_SCAN_CACHE); anything else is wrapped the same way.
    const failure =
      err instanceof CustosError
        ? err
        : new CustosError(
            'ERR_SCAN_CACHE',
            `cannot write the scan cache ${printable(cachePath as string)}: ${String(err)}`,
          );
    return { ...outcome, failure };
  }
  if (options.format === 'text') {
    warn(
      `scan cache: ${report.cachedFiles} of ${report.filesScanned} files unchanged since the last run`,
    );
  }
  return outcome;
}

const SKIP_NOTE: Record<'binary' | 'minified', string> = {
  binary: 'binary',
  minified: 'minified or generated (--scan-minified scans them)',
};

/**
 * Says on standard error what was not scanned: each file that could not be read or was over
 * the size limit by name, binary and minified files by count. Returns whether any could not be
 * read (the scan then fails: what it could not read may hold a secret).
 */
function reportSkipped(skipped: readonly SkippedFile[]): boolean {
  let unreadable = false;
  for (const entry of skipped) {
    if (entry.reason === 'unreadable') {
      unreadable = true;
      warn(`custos: cannot read ${printable(entry.file)} (${entry.error ?? 'error'}): not scanned`);
    } else if (entry.reason === 'huge') {
      warn(`not scanned, larger than the size limit (--max-file-size): ${printable(entry.file)}`);
    }
  }
  for (const reason of ['binary', 'minified'] as const) {
    const count = skipped.filter((entry) => entry.reason === reason).length;
    if (count > 0) warn(`not scanned: ${plural(count, 'file')} ${SKIP_NOTE[reason]}`);
  }
  return unreadable;
}

/**
 * `custos scan`: 0 nothing found, 1 secrets found, 2 usage or runtime error — including a file
 * that could not be read or a cache that could not be saved, reported after the findings.
 */
export async function run(paths: string[], options: ScanOptions): Promise<number> {
  checkModes(paths, options);
  const { findings, skipped, failure } = await findSecrets(paths, options);
  if (options.format === 'json') {
    print(JSON.stringify(toJsonReport(findings), null, 2));
  } else if (options.format === 'sarif') {
    const { defaultRules, scannerVersion, toSarif } = await import('@custos/scan');
    print(
      JSON.stringify(
        toSarif(findings, { rules: defaultRules, version: scannerVersion, skipped }),
        null,
        2,
      ),
    );
  }
  const lines = options.format === 'text' ? formatText(findings) : [];
  for (const line of lines.slice(0, -1)) print(line);
  const unreadable = reportSkipped(skipped);
  if (lines.length > 0) warn(lines.at(-1) as string);
  if (failure !== undefined) {
    reportError(failure);
    return ExitCode.error;
  }
  if (unreadable) return ExitCode.error;
  return findings.length > 0 ? ExitCode.finding : ExitCode.ok;
}
