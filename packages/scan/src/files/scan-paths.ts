import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Finding } from '../engine/finding.js';
import type { ScanTextOptions } from '../engine/scan-text.js';
import { compileAllowlist } from '../policy/allowlist.js';
import type { SkipReason } from './classify.js';
import { type ListedFile, listFiles } from './list-files.js';
import type { ScanCache } from './scan-cache.js';
import { type FileLimits, type FileResult, scanFile } from './scan-file.js';
import type { WorkerOptions, WorkerReply, WorkerRequest } from './worker-protocol.js';

/**
 * Options of {@link scanPaths}: those of `scanText` (but `name`) and the file limits.
 *
 * @example
 * ```ts
 * const options: ScanPathsOptions = { root: '.', maxFileBytes: 1 << 20, workers: 'auto' };
 * ```
 */
export interface ScanPathsOptions extends Omit<ScanTextOptions, 'name'>, FileLimits {
  /** Findings' `file` is relative to this directory, where `.custosignore` is read (default: cwd). */
  readonly root?: string;
  /** Follow `.gitignore` (default true). */
  readonly gitignore?: boolean;
  /**
   * Worker threads: a number, or `auto` (default) for one per core when the tree is large
   * enough to repay starting them. Custom `rules` always run in this thread.
   */
  readonly workers?: number | 'auto';
  /**
   * A scan cache ({@link openScanCache}): files whose content (and name) it holds are not
   * scanned again. The caller saves it after the scan.
   */
  readonly cache?: ScanCache;
  /** Called as files are done (for a progress display). */
  readonly onProgress?: (progress: ScanProgress) => void;
}

/** How far a scan is. */
export interface ScanProgress {
  readonly filesDone: number;
  readonly filesTotal: number;
  readonly bytesDone: number;
}

/** The result of {@link scanPaths}. */
export interface ScanReport {
  readonly findings: Finding[];
  readonly filesScanned: number;
  readonly bytesScanned: number;
  readonly skipped: ReadonlyArray<{ readonly file: string; readonly reason: SkipReason }>;
  /** Worker threads used (0: all in the calling thread). */
  readonly workers: number;
  /** Files whose findings came from the scan cache. */
  readonly cachedFiles: number;
}

const WORKER_URL = new URL('./scan-worker.js', import.meta.url);
const AUTO_WORKERS_MIN_BYTES = 8 * 1024 * 1024;

function byPlace(a: Finding, b: Finding): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column;
}

function workerCount(
  options: ScanPathsOptions,
  files: readonly ListedFile[],
  bytes: number,
): number {
  if (options.rules !== undefined || !existsSync(fileURLToPath(WORKER_URL))) return 0;
  const cores = availableParallelism();
  if (typeof options.workers === 'number') return Math.max(0, Math.floor(options.workers));
  return cores > 1 && files.length >= 16 && bytes >= AUTO_WORKERS_MIN_BYTES
    ? Math.min(cores, 8)
    : 0;
}

function workerOptions(options: ScanPathsOptions): WorkerOptions {
  return {
    ...(options.fingerprintKey !== undefined ? { fingerprintKey: options.fingerprintKey } : {}),
    ...(options.allowlist !== undefined ? { allowlist: options.allowlist } : {}),
    ...(options.baseline !== undefined ? { baseline: [...options.baseline] } : {}),
    ...(options.minConfidence !== undefined ? { minConfidence: options.minConfidence } : {}),
    ...(options.maxFileBytes !== undefined ? { maxFileBytes: options.maxFileBytes } : {}),
    ...(options.scanMinified !== undefined ? { scanMinified: options.scanMinified } : {}),
  };
}

/** Deals files to `count` workers, largest first, each to the least loaded. */
function deal(files: ReadonlyArray<ListedFile & { size: number }>, count: number): ListedFile[][] {
  const hands = Array.from({ length: count }, () => ({ bytes: 0, files: [] as ListedFile[] }));
  for (const file of [...files].sort((a, b) => b.size - a.size)) {
    const hand = hands.reduce((least, next) => (next.bytes < least.bytes ? next : least));
    hand.files.push({ absolute: file.absolute, relative: file.relative });
    hand.bytes += file.size;
  }
  return hands.map((hand) => hand.files);
}

function runWorker(
  request: WorkerRequest,
  onFile: (file: string, result: FileResult) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { workerData: request });
    let done = false;
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'file') onFile(reply.file, reply.result);
      else done = true;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (done && code === 0) resolve();
      else reject(new Error(`a scan worker stopped before finishing (exit code ${code})`));
    });
  });
}

/**
 * Scans files and directories: lists them (see `listFiles`: `.gitignore` and `.custosignore`
 * followed), skips binary, minified and huge files, reads each file once and scans it with
 * `scanText`, across worker threads for large trees.
 *
 * @example
 * ```ts
 * import { scanPaths } from '@custos/scan';
 * const report = await scanPaths(['.'], { root: process.cwd(), minConfidence: 'medium' });
 * if (report.findings.length > 0) process.exitCode = 1;
 * ```
 */
export async function scanPaths(
  paths: readonly string[],
  options: ScanPathsOptions = {},
): Promise<ScanReport> {
  const listed = await listFiles(paths, {
    ...(options.root !== undefined ? { root: options.root } : {}),
    ...(options.gitignore !== undefined ? { gitignore: options.gitignore } : {}),
  });
  const allowlist = compileAllowlist(options.allowlist);
  const files = await sizes(
    listed.filter(
      (file) => !allowlist.allowsPath(file.relative) && file.absolute !== options.cache?.path,
    ),
  );
  const totalBytes = files.reduce((sum, file) => sum + file.size, 0);
  const findings: Finding[] = [];
  const skipped: Array<{ file: string; reason: SkipReason }> = [];
  let filesDone = 0;
  let bytesDone = 0;
  let cachedFiles = 0;
  const cache = options.cache?.entries();
  const record = (file: string, result: FileResult) => {
    findings.push(...result.findings);
    if (result.skipped) skipped.push({ file, reason: result.skipped });
    if (result.cached !== undefined) {
      const { key, findings: all, hit } = result.cached;
      options.cache?.record(key, all, hit);
      if (hit) cachedFiles++;
    }
    filesDone++;
    bytesDone += result.bytes;
    options.onProgress?.({ filesDone, filesTotal: files.length, bytesDone });
  };
  const workers = Math.min(workerCount(options, files, totalBytes), files.length);
  if (workers > 0) {
    const shared = workerOptions(options);
    await Promise.all(
      deal(files, workers).map((hand) =>
        runWorker({ files: hand, options: shared, ...(cache ? { cache } : {}) }, record),
      ),
    );
  } else {
    for (const file of files) record(file.relative, await scanFile(file, options, cache));
  }
  return {
    findings: findings.sort(byPlace),
    filesScanned: filesDone - skipped.length,
    bytesScanned: bytesDone,
    skipped: skipped.sort((a, b) => (a.file < b.file ? -1 : 1)),
    workers,
    cachedFiles,
  };
}

async function sizes(files: readonly ListedFile[]) {
  return Promise.all(
    files.map(async (file) => ({
      ...file,
      size: (await stat(file.absolute).catch(() => null))?.size ?? 0,
    })),
  );
}
