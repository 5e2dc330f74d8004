import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { ServerError } from '../errors.js';
import { type AuditVerification, type VerifyOptions, verifyAuditLog } from './audit-verify.js';
import { linesBackward } from './sinks.js';

/** Most entries one page of {@link recentEntries} returns. */
export const MAX_ENTRIES_PAGE = 200;

/**
 * Largest current file the live chain check reads (16 MiB): verifying is synchronous work on
 * the server's event loop, so a larger file is verified with `custos audit verify` where it is.
 */
export const DEFAULT_VERIFY_MAX_BYTES = 16 * 1024 * 1024;

/** Most problems a live check returns (the first one is what the dashboard shows). */
export const MAX_PROBLEMS = 50;

/** One page of entries, newest first. */
export interface EntriesPage {
  /**
   * Each line exactly as written (HMAC'd values stay HMAC'd), as a string: the audit entry of
   * the response that serves them then holds one HMAC per line, never the lines' structure
   * again (which would grow with every read of a read). `null` for a line that is not a JSON
   * object (never echoed: it may hold anything).
   */
  readonly lines: (string | null)[];
  /** The `before` that gives the next (older) page; undefined at the file's start. */
  readonly nextBefore: number | undefined;
}

/**
 * The latest lines of an audit file older than `before` (a `seq`), newest first, read back from
 * the end of the file in chunks: a page near the end never reads a large file whole. The file's
 * size is taken once, so a line being written is not read torn.
 *
 * @example
 * ```ts
 * const page = await recentEntries('/var/log/custos/audit.log', { limit: 50 });
 * const older = await recentEntries(path, { limit: 50, before: page.nextBefore });
 * ```
 */
export async function recentEntries(
  path: string,
  options: { readonly limit: number; readonly before?: number | undefined },
): Promise<EntriesPage> {
  const reader = await openRegular(path);
  if (reader === undefined) return { lines: [], nextBefore: undefined };
  try {
    return await pageOf(reader, (await reader.stat()).size, options);
  } finally {
    await reader.close();
  }
}

/** One page read back through `reader` (one descriptor: a rotation meanwhile is not mixed in). */
async function pageOf(
  reader: FileHandle,
  size: number,
  options: { readonly limit: number; readonly before?: number | undefined },
): Promise<EntriesPage> {
  const lines: (string | null)[] = [];
  let last: number | undefined;
  let more = false;
  for await (const line of linesBackward(reader, size)) {
    const seq = seqOf(line);
    if (seq === null) {
      // Not an entry: shown in place on the newest page, skipped once paging by seq.
      if (options.before === undefined && lines.length < options.limit) lines.push(null);
      continue;
    }
    if (options.before !== undefined && (seq === undefined || seq >= options.before)) continue;
    if (lines.length === options.limit) {
      more = true;
      break;
    }
    lines.push(line);
    if (seq !== undefined) last = seq;
  }
  return { lines, nextBefore: more ? last : undefined };
}

/** What a live check of a file found, and how much of it was read. */
export interface LiveVerification extends AuditVerification {
  /** Bytes verified: the file up to its last complete line when the check began. */
  readonly checkedBytes: number;
  /** The first problem's line (1-based) and what is wrong there; undefined when intact. */
  readonly firstProblem: { readonly line: number | undefined; readonly reason: string } | undefined;
}

/**
 * Verifies an audit file as it is now with {@link verifyAuditLog} (what `custos audit verify`
 * runs), given the server's own records (`options`, as `--server` fetches them). Reads the file
 * up to its last complete line (a line being written is left for the next check) and refuses a
 * file over `maxBytes` with `ERR_AUDIT_FILE_TOO_LARGE`, naming the command to run instead.
 *
 * @example
 * ```ts
 * const report = await verifyLiveFile('/var/log/custos/audit.log', { publicKey, fileStarts });
 * if (!report.ok) console.log(report.firstProblem);
 * ```
 */
export async function verifyLiveFile(
  path: string,
  options: VerifyOptions & { readonly maxBytes?: number },
): Promise<LiveVerification> {
  const { bytes, read } = await readWhole(path, options.maxBytes ?? DEFAULT_VERIFY_MAX_BYTES);
  const complete = bytes.lastIndexOf(0x0a, read - 1) + 1;
  const text = bytes.subarray(0, complete).toString('utf8');
  const report = verifyAuditLog(text, options);
  const notes =
    complete < read
      ? [
          ...report.notes,
          `${read - complete} bytes after the last complete line were not checked (a line being written)`,
        ]
      : report.notes;
  const first = report.problems[0];
  const line = first === undefined ? undefined : /^line (\d+):/.exec(first)?.[1];
  return {
    ...report,
    notes,
    problems: report.problems.slice(0, MAX_PROBLEMS),
    checkedBytes: complete,
    firstProblem:
      first === undefined
        ? undefined
        : {
            line: line === undefined ? undefined : Number(line),
            reason: first.replace(/^line \d+: /, ''),
          },
  };
}

/** A line's `seq`: undefined for an object without one, null for a line that is no JSON object. */
function seqOf(line: string): number | undefined | null {
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
    const seq = (parsed as { seq?: unknown }).seq;
    return typeof seq === 'number' ? seq : undefined;
  } catch {
    return null;
  }
}

/**
 * The file's bytes, read through one descriptor (a file renamed meanwhile by rotation is read
 * whole as it was, never mixed with the next one), up to the size it had when opened.
 */
async function readWhole(path: string, maxBytes: number): Promise<{ bytes: Buffer; read: number }> {
  const reader = await openRegular(path);
  if (reader === undefined) return { bytes: Buffer.alloc(0), read: 0 };
  try {
    const info = await reader.stat();
    if (info.size > maxBytes)
      throw new ServerError(
        'ERR_AUDIT_FILE_TOO_LARGE',
        `the audit file holds ${info.size} bytes, more than the ${maxBytes} the server verifies live: run custos audit verify <file> --server --sink <device> where the file is`,
      );
    const bytes = Buffer.alloc(info.size);
    let read = 0;
    while (read < info.size) {
      const { bytesRead } = await reader.read(bytes, read, info.size - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return { bytes, read };
  } finally {
    await reader.close();
  }
}

/**
 * The file opened for reading, undefined when it does not exist yet; anything but a regular
 * file is not readable (a FIFO is opened without blocking, then refused).
 */
async function openRegular(path: string): Promise<FileHandle | undefined> {
  const reader = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw new ServerError(
        'ERR_AUDIT_NOT_READABLE',
        `the audit file cannot be read (${err.code})`,
      );
    },
  );
  if (reader === undefined) return undefined;
  const info = await reader.stat().catch(() => undefined);
  if (info?.isFile() === true) return reader;
  await reader.close();
  throw new ServerError('ERR_AUDIT_NOT_READABLE', 'the audit device does not write a regular file');
}
