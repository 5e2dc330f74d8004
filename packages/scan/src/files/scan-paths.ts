import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Finding } from '../engine/finding.js';
import type { ScanTextOptions } from '../engine/scan-text.js';
import { compileAllowlist } from '../policy/allowlist.js';
import { keyInTrees } from './cache-key.js';
import type { SkipReason } from './classify.js';
import { claimFile } from './file-queue.js';
import { type ListedFile, listFiles } from './list-files.js';
import { readPath } from './path-bytes.js';
import type { ScanCache } from './scan-cache.js';
import { type FileLimits, type FileResult, scanFile } from './scan-file.js';
import { runJob } from './thread-pool.js';
import { workerOptions, workerThreads } from './worker-pool.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

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
   * Worker threads scanning beside the calling thread: a number, or `auto` (default) for one
   * per core but the calling thread's when the tree is large enough to repay starting them.
   * Custom `rules` always run in the calling thread alone.
   */
  readonly workers?: number | 'auto';
  /**
   * A scan cache ({@link openScanCache}): files whose content (and name) it holds are not
   * scanned again. The caller saves it after the scan. Its entries are not read when its key
   * file lies under the root or a scanned path (it may have come with the tree).
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

/** A file listed but not scanned. */
export interface SkippedFile {
  readonly file: string;
  readonly reason: SkipReason;
  /** Why an `unreadable` file could not be read: the system's error code (`EACCES`, …). */
  readonly error?: string;
}

/** The result of {@link scanPaths}. */
export interface ScanReport {
  readonly findings: Finding[];
  readonly filesScanned: number;
  readonly bytesScanned: number;
  /** Files listed but not scanned, and why (`error`: the system's code for `unreadable`). */
  readonly skipped: readonly SkippedFile[];
  /** Worker threads used besides the calling thread (0: all in the calling thread). */
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

/** The files largest first (claimed in that order, so the last ones claimed are small). */
function largestFirst(files: ReadonlyArray<ListedFile & { size: number }>): ListedFile[] {
  return [...files].sort((a, b) => b.size - a.size).map(({ size, ...file }) => file);
}

/** A turn of the event loop: worker messages and progress are handled between files. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Scans files and directories: lists them (see `listFiles`: `.gitignore` and `.custosignore`
 * followed), skips binary, minified and huge files, reads each file once and scans it with
 * `scanText`. For large trees worker threads scan beside the calling thread, each claiming the
 * next file of one shared list (largest first) when it is done with the last: the calling
 * thread starts at once, while the workers start up.
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
  const files = sizes(
    listed.filter(
      (file) =>
        !allowlist.allowsPath(file.relative) &&
        // The cache itself, when it is one this user wrote (never another file at its place).
        !(options.cache?.trusted === true && file.absolute === options.cache.path),
    ),
  );
  const totalBytes = files.reduce((sum, file) => sum + file.size, 0);
  const findings: Finding[] = [];
  const skipped: SkippedFile[] = [];
  let filesDone = 0;
  let bytesDone = 0;
  let cachedFiles = 0;
  // A key in the scanned tree may have come with it: then the cache is rebuilt, never read.
  const root = resolve(options.root ?? '.');
  const keyInTree = keyInTrees(options.cache?.keyFile, [
    root,
    ...paths.map((p) => resolve(root, p)),
  ]);
  const cache = keyInTree ? {} : options.cache?.entries();
  const record = (file: string, result: FileResult) => {
    findings.push(...result.findings);
    if (result.skipped) {
      skipped.push({
        file,
        reason: result.skipped,
        ...(result.error === undefined ? {} : { error: result.error }),
      });
    }
    if (result.cached !== undefined) {
      const { key, findings: all, hit } = result.cached;
      options.cache?.record(key, all, hit);
      if (hit) cachedFiles++;
    }
    filesDone++;
    bytesDone += result.bytes;
    options.onProgress?.({ filesDone, filesTotal: files.length, bytesDone });
  };
  const workers = Math.min(
    workerThreads(options.workers, {
      customRules: options.rules !== undefined,
      large: files.length >= 2 && totalBytes >= AUTO_WORKERS_MIN_BYTES,
      script: WORKER_URL,
    }),
    files.length,
  );
  if (workers > 0) {
    const queue = largestFirst(files);
    const next = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    const request: WorkerRequest = {
      files: queue,
      next,
      options: workerOptions(options),
      ...(cache ? { cache } : {}),
    };
    let failed = false;
    const pool = Promise.all(
      Array.from({ length: workers }, () =>
        runJob<WorkerReply>(WORKER_URL, request, (reply) => {
          if (reply.type === 'file') record(reply.file, reply.result);
        }),
      ),
    );
    // Handled here (the calling thread stops claiming files), rethrown by the await below.
    pool.catch(() => {
      failed = true;
    });
    const counter = new Int32Array(next);
    let file = claimFile(counter, queue);
    while (file !== undefined && !failed) {
      record(file.relative, await scanFile(file, options, cache));
      await nextTurn();
      file = claimFile(counter, queue);
    }
    await pool;
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

/**
 * Each file with its size (0 when it cannot be read: the scan reports it). Synchronous: a
 * `stat` of a listed file takes microseconds, less than a trip through the thread pool.
 */
function sizes(files: readonly ListedFile[]) {
  return files.map((file) => ({ ...file, size: sizeOf(readPath(file)) }));
}

function sizeOf(path: string | Buffer): number {
  try {
    return statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  } catch {
    return 0;
  }
}
