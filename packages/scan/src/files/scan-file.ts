import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { Finding } from '../engine/finding.js';
import { isReported } from '../engine/finding-filter.js';
import { type ScanTextOptions, scanBytes } from '../engine/scan-text.js';
import {
  classifyContent,
  DEFAULT_MAX_FILE_BYTES,
  type FileLimits,
  type SkipReason,
} from './classify.js';
import type { ListedFile } from './list-files.js';
import { readPath } from './path-bytes.js';
import { isPkcs12Path, pkcs12Finding } from './pkcs12.js';
import { cachedFindings, cacheKey } from './scan-cache.js';
import { scannableBytes } from './text-encoding.js';

/** What scanning one file gave. */
export interface FileResult {
  readonly findings: Finding[];
  readonly bytes: number;
  readonly skipped?: SkipReason;
  /** Why an `unreadable` file could not be read: the system's error code (`EACCES`, …). */
  readonly error?: string;
  /** For the scan cache: the content's key and findings before the run's filters. */
  readonly cached?: { readonly key: string; readonly findings: Finding[]; readonly hit: boolean };
}

/** Limits of a file scan (defined beside the classification, which the light entry loads). */
export type { FileLimits } from './classify.js';

/** The stored entries of a scan cache (see scan-cache.ts), in this thread or a worker's. */
export type CacheEntries = Readonly<Record<string, readonly Finding[]>>;

/**
 * This thread's read buffer, reused from file to file: a fresh buffer per file cost a
 * garbage-collected allocation of every file's size. What is read into it is only looked at
 * until {@link scanFile} returns (every step between the read and the return is synchronous;
 * the findings hold strings, never the bytes).
 */
let readBuffer = Buffer.allocUnsafe(64 * 1024);
/**
 * A read buffer grown past this for a large file is kept while the files read need it (they are
 * claimed largest first: reading into memory already mapped costs half the time of fresh pages)
 * and dropped at the first file that fits in this.
 */
const KEPT_READ_BUFFER_BYTES = 1024 * 1024;

/**
 * The whole file, or `huge` when it is larger than `maxBytes` (then it is not read): a view of
 * the read buffer, valid until the next call. Read synchronously, by one open, stat, read and
 * close: scanning a file blocks its thread far longer than reading it does, and the
 * promise-based `readFile` (four trips through the thread pool per file) cost three times the
 * CPU.
 */
function readWhole(path: string | Buffer, maxBytes: number): Buffer | 'huge' {
  // Listed as a regular file, but it may have been replaced since: opened without blocking (a
  // FIFO's open waits for a writer) and refused unless it still is one (a FIFO or a device
  // would block the read, or never end).
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) {
      throw Object.assign(new Error('no longer a regular file'), { code: 'ENOTREGULAR' });
    }
    const { size } = info;
    if (size > maxBytes) return 'huge';
    if (readBuffer.length > KEPT_READ_BUFFER_BYTES && size < KEPT_READ_BUFFER_BYTES)
      readBuffer = Buffer.allocUnsafe(64 * 1024);
    let total = 0;
    // Read to the end: the size may have changed since the stat (a file being written).
    for (;;) {
      if (readBuffer.length < total + Math.max(size - total, 1)) {
        const grown = Buffer.allocUnsafe(Math.max(size + 1, readBuffer.length * 2));
        readBuffer.copy(grown, 0, 0, total);
        readBuffer = grown;
      }
      const count = readSync(fd, readBuffer, total, readBuffer.length - total, null);
      if (count === 0) break;
      total += count;
      if (total > maxBytes) return 'huge';
    }
    return readBuffer.subarray(0, total);
  } finally {
    closeSync(fd);
  }
}

/**
 * Scans one file, read once. PKCS#12 key stores (`.p12`, `.pfx`) are binary: each is reported
 * as a whole (`pkcs12-file`, fingerprint of its bytes).
 */
export async function scanFile(
  file: ListedFile,
  options: Omit<ScanTextOptions, 'name'> & FileLimits,
  cache?: CacheEntries,
): Promise<FileResult> {
  let content: Buffer;
  try {
    const read = readWhole(readPath(file), options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
    if (read === 'huge') return { findings: [], bytes: 0, skipped: 'huge' };
    content = read;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { findings: [], bytes: 0, skipped: 'unreadable', error: code ?? 'EIO' };
  }
  if (isPkcs12Path(file.relative))
    return { findings: pkcs12Finding(file, content, options), bytes: content.length };
  content = scannableBytes(content);
  const skipped = classifyContent(file.relative, content, options);
  if (skipped !== null) return { findings: [], bytes: 0, skipped };
  // Custom rules are not part of the scanner's identity: their findings are never cached.
  if (cache === undefined || options.rules !== undefined) {
    return {
      findings: scanBytes(content, { ...options, name: file.relative }),
      bytes: content.length,
    };
  }
  const key = cacheKey(file.relative, content, options.fingerprintKey);
  const stored = cachedFindings(cache, key);
  const all = stored
    ? [...stored]
    : scanBytes(content, {
        name: file.relative,
        ...(options.fingerprintKey === undefined ? {} : { fingerprintKey: options.fingerprintKey }),
      });
  return {
    findings: all.filter((finding) => isReported(finding, options)),
    bytes: content.length,
    cached: { key, findings: all, hit: stored !== undefined },
  };
}
