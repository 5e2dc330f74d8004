import { resolve } from 'node:path';
import type { Finding } from '../engine/finding.js';
import type { ScanTextOptions } from '../engine/scan-text.js';
import type { FileLimits } from '../files/classify.js';
import { runJob } from '../files/thread-pool.js';
import { workerOptions, workerThreads } from '../files/worker-pool.js';
import { compileAllowlist } from '../policy/allowlist.js';
import { type BlobOrigin, blobOrigins } from './blob-origins.js';
import {
  BLOBS_PER_CLAIM,
  type BlobResult,
  type HistoryWorkerReply,
  type HistoryWorkerRequest,
  scanClaimedBlobs,
} from './history-share.js';
import { checkRevision } from './run-git.js';

/**
 * Options of {@link scanGitHistory}.
 *
 * @example
 * ```ts
 * const options: ScanGitHistoryOptions = { repository: '.', since: 'v1.2.0', branch: 'main' };
 * ```
 */
export interface ScanGitHistoryOptions extends Omit<ScanTextOptions, 'name'>, FileLimits {
  /** A directory inside the repository (default: the current one). */
  readonly repository?: string;
  /** Only what is new since this revision (commits and blobs reachable from it are left out). */
  readonly since?: string;
  /** Only this branch (or any revision) instead of every ref (`--all`). */
  readonly branch?: string;
  /**
   * Worker threads scanning beside the calling thread, each reading its share of the blobs
   * with a git process of its own: a number, or `auto` (default) for one per core but the
   * calling thread's when the history holds enough blobs to repay starting them. Custom
   * `rules` always run in the calling thread alone.
   */
  readonly workers?: number | 'auto';
  /** Called as blobs are done (for a progress display). */
  readonly onProgress?: (progress: HistoryProgress) => void;
}

/** How far a history scan is. */
export interface HistoryProgress {
  readonly blobsDone: number;
  readonly blobsTotal: number;
  readonly bytesDone: number;
}

/** The result of {@link scanGitHistory}. */
export interface GitHistoryReport {
  readonly findings: Finding[];
  /** Distinct blobs read (each once, however many commits hold it). */
  readonly blobsScanned: number;
  readonly bytesScanned: number;
  /** Worker threads used besides the calling thread (0: all in the calling thread). */
  readonly workers: number;
}

const WORKER_URL = new URL('./history-worker.js', import.meta.url);
/** Below this many blobs the calling thread scans alone: starting workers would not repay. */
const AUTO_WORKERS_MIN_BLOBS = 256;

/**
 * Scans git history by unique blob: every blob of the chosen revisions is read once with
 * `git cat-file --batch` and scanned with `scanBytes` under the path it first had; each secret
 * is reported once, with the commit, author and date that first introduced it (a file moved or
 * deleted later does not bring it back or hide it).
 *
 * @example
 * ```ts
 * import { scanGitHistory } from '@custos/scan';
 * const { findings } = await scanGitHistory({ repository: '.', since: 'origin/main' });
 * for (const f of findings) console.warn(`${f.commit} ${f.file}:${f.line} ${f.rule} ${f.redacted}`);
 * ```
 */
export async function scanGitHistory(
  options: ScanGitHistoryOptions = {},
): Promise<GitHistoryReport> {
  const cwd = resolve(options.repository ?? '.');
  const revisions = [
    options.branch === undefined ? '--all' : checkRevision(options.branch, 'the branch'),
  ];
  if (options.since !== undefined)
    revisions.push(`^${checkRevision(options.since, 'the --since revision')}`);
  const origins = await blobOrigins(revisions, cwd);
  const allowlist = compileAllowlist(options.allowlist);
  const wanted = origins.filter((origin) => !allowlist.allowsPath(origin.path));
  const blobs = wanted.map(({ blob, path }) => ({ blob, path }));
  const results: BlobResult[] = new Array(blobs.length).fill(null);
  let blobsDone = 0;
  let bytesDone = 0;
  const record = (start: number, part: readonly BlobResult[]) => {
    part.forEach((result, i) => {
      results[start + i] = result;
      bytesDone += result?.bytes ?? 0;
    });
    blobsDone += part.length;
    options.onProgress?.({ blobsDone, blobsTotal: blobs.length, bytesDone });
  };
  const workers = Math.min(
    workerThreads(options.workers, {
      customRules: options.rules !== undefined,
      large: blobs.length >= AUTO_WORKERS_MIN_BLOBS,
      script: WORKER_URL,
    }),
    Math.ceil(blobs.length / BLOBS_PER_CLAIM),
  );
  const next = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  const counter = new Int32Array(next);
  // After a failure in any thread, no thread claims more blobs.
  const stopClaims = () => Atomics.store(counter, 0, blobs.length);
  const request: HistoryWorkerRequest = { blobs, next, cwd, options: workerOptions(options) };
  const pool = Promise.all(
    Array.from({ length: workers }, () =>
      runJob<HistoryWorkerReply>(WORKER_URL, request, (reply) => {
        if (reply.type === 'blobs') record(reply.start, reply.results);
      }),
    ),
  );
  // Handled here, rethrown by the await below.
  pool.catch(stopClaims);
  try {
    await scanClaimedBlobs(blobs, counter, cwd, options, record);
  } catch (error) {
    stopClaims();
    await pool.catch(() => {});
    throw error;
  }
  await pool;

  // In history order: a secret is reported where it first appeared, whichever thread found it.
  const seen = new Set<string>();
  const findings: Finding[] = [];
  results.forEach((result, i) => {
    const origin = wanted[i] as BlobOrigin;
    for (const finding of result?.findings ?? []) {
      if (seen.has(finding.fingerprint)) continue;
      seen.add(finding.fingerprint);
      findings.push({
        ...finding,
        ...(origin.commit !== undefined ? { commit: origin.commit } : {}),
        ...(origin.author !== undefined ? { author: origin.author } : {}),
        ...(origin.date !== undefined ? { date: origin.date } : {}),
      });
    }
  });
  return { findings, blobsScanned: blobs.length, bytesScanned: bytesDone, workers };
}
