import type { Finding } from '../engine/finding.js';
import { type ScanTextOptions, scanBytes } from '../engine/scan-text.js';
import {
  classifyContent,
  DEFAULT_MAX_FILE_BYTES,
  type FileLimits,
  type SkipReason,
} from '../files/classify.js';
import { isPkcs12Path, pkcs12Finding } from '../files/pkcs12.js';
import { scannableBytes } from '../files/text-encoding.js';
import type { WorkerOptions } from '../files/worker-protocol.js';
import { openObjectReader } from './cat-file.js';
import { gitFailed } from './run-git.js';

/** A blob to scan, under each of `paths` (one per syntax class of the paths it had). */
export interface HistoryBlob {
  readonly blob: string;
  readonly paths: readonly string[];
}

/**
 * What scanning one blob gave: the findings under each of its paths (`findings[i]` under
 * `paths[i]`), or, when it was scanned under none, why (`skipped`: too large, binary,
 * minified; `findings` is then empty). `null` only for a blob not scanned yet.
 */
export type BlobResult = {
  readonly findings: Finding[][];
  readonly bytes: number;
  readonly skipped?: SkipReason;
} | null;

/** What a history worker is given for one scan (the job posted to it). */
export interface HistoryWorkerRequest {
  readonly blobs: readonly HistoryBlob[];
  /** One `Int32`: the index of the next blob to claim, shared by every thread. */
  readonly next: SharedArrayBuffer;
  readonly cwd: string;
  readonly options: WorkerOptions;
}

/** What a history worker posts: the results of each claim, then `done`. */
export type HistoryWorkerReply =
  | { readonly type: 'blobs'; readonly start: number; readonly results: BlobResult[] }
  | { readonly type: 'done' };

/** Blobs a thread claims at a time (and asks its git process for in one request). */
export const BLOBS_PER_CLAIM = 16;

type HistoryScanOptions = Omit<ScanTextOptions, 'name'> & FileLimits;

/** Scans `content` as a directory scan would under each of the blob's paths. */
function scanBlob(blob: HistoryBlob, content: Buffer, options: HistoryScanOptions): BlobResult {
  if (content.length > (options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES))
    return { findings: [], bytes: 0, skipped: 'huge' };
  let scanned = false;
  let skipped: SkipReason = 'binary';
  // UTF-16 text decoded once, whatever the number of paths it is judged under.
  let text: Buffer | undefined;
  const findings = blob.paths.map((path) => {
    if (isPkcs12Path(path)) {
      scanned = true;
      return pkcs12Finding({ relative: path }, content, options);
    }
    text ??= scannableBytes(content);
    const skip = classifyContent(path, text, options);
    if (skip !== null) {
      skipped = skip;
      return [];
    }
    scanned = true;
    return scanBytes(text, { ...options, name: path });
  });
  return scanned ? { findings, bytes: content.length } : { findings: [], bytes: 0, skipped };
}

/**
 * Scans blobs of `blobs` that several threads share: each thread claims the next
 * {@link BLOBS_PER_CLAIM} (`next`, an `Int32Array` over a `SharedArrayBuffer`, holds the index
 * of the next unclaimed blob), reads them with a `git cat-file --batch` process of its own while
 * it scans the ones before, and hands the results to `onBlobs` by the index of the first. A
 * thread that sees another fail stops them all by moving `next` past the end.
 *
 * @example
 * ```ts
 * const next = new Int32Array(new SharedArrayBuffer(4));
 * await scanClaimedBlobs(blobs, next, '.', {}, (start, results) => keep(start, results));
 * ```
 */
export async function scanClaimedBlobs(
  blobs: readonly HistoryBlob[],
  next: Int32Array,
  cwd: string,
  options: HistoryScanOptions,
  onBlobs: (start: number, results: BlobResult[]) => void,
): Promise<void> {
  const reader = openObjectReader(cwd);
  const claim = () => {
    const start = Atomics.add(next, 0, BLOBS_PER_CLAIM);
    if (start >= blobs.length) return undefined;
    const part = blobs.slice(start, start + BLOBS_PER_CLAIM);
    const objects = reader.read(part.map((blob) => blob.blob));
    // Awaited in turn below; a failure before then must not count as unhandled.
    objects.catch(() => {});
    return { start, part, objects };
  };
  try {
    let current = claim();
    while (current !== undefined) {
      // The next claim is read by git while this one is scanned.
      const following = claim();
      const { start, part } = current;
      const objects = await current.objects;
      const unreadable = objects.findIndex((object) => object.content === null);
      if (unreadable >= 0) {
        // History lists it, so the repository should hold it: scanning on would pass content
        // no one looked at as clean.
        const { blob, paths } = part[unreadable] as HistoryBlob;
        throw gitFailed(
          ['cat-file'],
          `blob ${blob} (${paths[0]}) is missing or cannot be read; \`git fsck\` tells what is damaged`,
        );
      }
      onBlobs(
        start,
        objects.map((object, i) =>
          scanBlob(part[i] as HistoryBlob, object.content as Buffer, options),
        ),
      );
      current = following;
    }
  } finally {
    await reader.close();
  }
}
