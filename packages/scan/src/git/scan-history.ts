import { resolve } from 'node:path';
import type { Finding } from '../engine/finding.js';
import type { ScanTextOptions } from '../engine/scan-text.js';
import type { FileLimits } from '../files/classify.js';
import type { SkippedFile } from '../files/scan-paths.js';
import { runJob } from '../files/thread-pool.js';
import { workerOptions, workerThreads } from '../files/worker-pool.js';
import { compileAllowlist } from '../policy/allowlist.js';
import { type BlobOrigin, type BlobPlace, blobOrigins } from './blob-origins.js';
import {
  BLOBS_PER_CLAIM,
  type BlobResult,
  type HistoryBlob,
  type HistoryWorkerReply,
  type HistoryWorkerRequest,
  scanClaimedBlobs,
} from './history-share.js';
import { type PlacedFinding, placeFinding, placeGroups } from './place-groups.js';
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
  /**
   * Findings to leave out by their place: file, line and commit (a `.gitleaksignore` entry,
   * `isGitleaksIgnored`). Judged at every place a secret was found before each secret is
   * reported once, so leaving out one place does not hide the same secret elsewhere.
   */
  readonly ignore?: (finding: Finding) => boolean;
  /** Called as blobs are done (for a progress display). */
  readonly onProgress?: (progress: HistoryProgress) => void;
  /** Told of each blob not scanned (too large, binary, minified), under its first path. */
  readonly onSkipped?: (skipped: SkippedFile) => void;
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
 * `git cat-file --batch` and scanned with `scanBytes` under the first path it had that is not
 * allowlisted, one not in a test fixture first (once per syntax class of its paths, see
 * `syntax-class.ts`); a blob is left out only when every path it had is allowlisted. A finding
 * is placed at that path, with the commit, author and date that introduced the blob there (or
 * at the blob's next such path when `ignore` leaves that place out), and each secret is
 * reported once, at the earliest of its places in history (a file moved or deleted later does
 * not bring it back or hide it).
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
  const wanted: BlobOrigin[] = [];
  const blobs: HistoryBlob[] = [];
  for (const origin of origins) {
    const groups = placeGroups(origin.places, allowlist);
    if (groups.length === 0) continue;
    wanted.push(origin);
    blobs.push({ blob: origin.blob, paths: groups.map((group) => (group[0] as BlobPlace).path) });
  }
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

  // Each finding at its place (the filters of each place applied first), then in history order:
  // a secret is reported where it first appeared, whichever thread found it.
  const placed: PlacedFinding[] = [];
  results.forEach((result, i) => {
    if (result?.skipped !== undefined) {
      const path = (blobs[i] as HistoryBlob).paths[0] as string;
      options.onSkipped?.({ file: path, reason: result.skipped });
    }
    if (result === null || result.findings.every((found) => found.length === 0)) return;
    // Grouped again only for the few blobs with findings: the same groups as above.
    const groups = placeGroups((wanted[i] as BlobOrigin).places, allowlist);
    result.findings.forEach((found, group) => {
      for (const finding of found) {
        const at = placeFinding(finding, groups[group] as BlobPlace[], options, options.ignore);
        if (at !== undefined) placed.push(at);
      }
    });
  });
  placed.sort((a, b) => a.order - b.order);
  const seen = new Set<string>();
  const findings: Finding[] = [];
  for (const { finding } of placed) {
    if (seen.has(finding.fingerprint)) continue;
    seen.add(finding.fingerprint);
    findings.push(finding);
  }
  return { findings, blobsScanned: blobs.length, bytesScanned: bytesDone, workers };
}
