import { writeSync } from 'node:fs';
import { type FileHandle, open, rename, stat, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type RotatedFile, rotatedFiles, rotatedName } from './rotated-files.js';

/**
 * What a sink already holds, read back to check that it continues the chain the server
 * recorded (`audit-continuity.ts`).
 */
export interface SinkHistory {
  /** `absent`: nothing there yet; `special`: a device, FIFO or the like, which cannot be read back. */
  readonly kind: 'regular' | 'absent' | 'special';
  /** Bytes in a regular file (0 otherwise). */
  readonly size: number;
  /** Complete lines from the last to the first; a torn last line (no newline) is skipped. */
  backward(): AsyncIterable<string>;
  /** The first complete line, if any. */
  first(): Promise<string | undefined>;
}

/** Where audit lines go. A sink writes whole lines, one at a time, in order. */
export interface AuditSink {
  readonly name: string;
  /**
   * Where the lines go (`file:<absolute path>`, `stdout`), recorded as the sink's owner so two
   * nodes never write one chain to two places.
   */
  readonly destination?: string;
  /** Appends one or more lines (joined by newlines, without the final newline). */
  write(lines: string): Promise<void>;
  /**
   * What the sink holds already, to continue its hash chain after a restart and check that
   * nothing was cut; absent for sinks that cannot be read back (stdout).
   */
  history?(): Promise<SinkHistory>;
  /** True when the next write is the first into an empty file (a new file starts there). */
  startsFile?(): Promise<boolean>;
  close(): Promise<void>;
  /** Closes and reopens the destination (log rotation); optional. */
  reopen?(): Promise<void>;
  /** True when the file reached its size or age limit (checked between writes). */
  rotationDue?(): Promise<boolean>;
  /**
   * Moves the file aside (after syncing it to disk), so the next write starts a new one.
   * Returns where it went, or undefined when there was no file.
   */
  rotate?(): Promise<string | undefined>;
  /**
   * Rotated files past the retention, oldest first (none without a retention). Read only
   * when the sink can also `remove` them.
   */
  expired?(): Promise<RotatedFile[]>;
  /** Deletes a rotated file (retention, once its deletion is recorded in the chain). */
  remove?(file: RotatedFile): Promise<void>;
}

/** Rotation and retention of a file sink (all optional: without them the file only grows). */
export interface FileSinkOptions {
  /** Rotate once the file holds this many bytes. */
  readonly maxBytes?: number;
  /** Rotate once the file's first entry is this old (ms). */
  readonly maxAgeMs?: number;
  /** Delete rotated files whose last entry is older than this (ms). */
  readonly retainMs?: number;
  readonly now?: () => Date;
}

const CHUNK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/**
 * Appends to a file (created with mode 0600). The file is opened lazily on the first write and
 * reopened after `reopen()` (for log rotation on SIGHUP). With `maxBytes` or `maxAgeMs` it says
 * when it is due to rotate, and `rotate()` moves it to `<path>.<time>`; with `retainMs`,
 * `expired()` lists the rotated files past it (the chain records their deletion).
 *
 * @example
 * ```ts
 * const sink = createFileSink('file', '/var/log/custos/audit.log', { maxBytes: 100 * 1024 * 1024 });
 * ```
 */
export function createFileSink(
  name: string,
  path: string,
  options: FileSinkOptions = {},
): AuditSink {
  const now = options.now ?? (() => new Date());
  let handle: Promise<{ file: FileHandle; sizeAtOpen: number; regular: boolean }> | undefined;
  let written = 0;
  /** Time (ms) of the file's first entry: what its age counts from. */
  let startedMs: number | undefined;
  const file = () => {
    if (handle === undefined) {
      const opening = (async () => {
        const opened = await open(path, 'a', 0o600);
        const info = await opened.stat();
        const size = info.size;
        startedMs = size === 0 ? undefined : await firstEntryMs(path, size);
        return { file: opened, sizeAtOpen: size, regular: info.isFile() };
      })();
      handle = opening;
      // A failed open is not kept: the next write tries again (a passing EMFILE or EACCES, a
      // directory made since), instead of failing until a SIGHUP.
      opening.catch(() => {
        if (handle === opening) handle = undefined;
      });
    }
    return handle;
  };
  const close = async () => {
    const h = handle;
    handle = undefined;
    written = 0;
    startedMs = undefined;
    // A file that never opened has nothing to close.
    const opened = await h?.catch(() => undefined);
    await opened?.file.close();
  };
  return {
    name,
    destination: `file:${resolve(path)}`,
    async write(line) {
      const { file: h, regular } = await file();
      const bytes = Buffer.from(`${line}\n`, 'utf8');
      // A regular file is written from the event loop: a write into the page cache takes
      // microseconds, while a trip through the thread pool wakes a thread that, on busy cores,
      // takes the CPU from the event loop. A FIFO or device may block: the thread pool's, with
      // the request's time limit. (A regular file on a network filesystem that stops answering
      // stops the server with it: docs/operations.md says to keep the audit file local.)
      if (regular) writeWhole(h.fd, bytes);
      else await h.write(bytes);
      startedMs ??= now().getTime();
      written += bytes.length;
    },
    async startsFile() {
      const { sizeAtOpen } = await file();
      return sizeAtOpen === 0 && written === 0;
    },
    history: () => fileHistory(path),
    close,
    async reopen() {
      await close();
    },
    async rotationDue() {
      if (options.maxBytes === undefined && options.maxAgeMs === undefined) return false;
      const { sizeAtOpen } = await file();
      const size = sizeAtOpen + written;
      if (size === 0) return false;
      if (options.maxBytes !== undefined && size >= options.maxBytes) return true;
      return (
        options.maxAgeMs !== undefined &&
        startedMs !== undefined &&
        now().getTime() - startedMs >= options.maxAgeMs
      );
    },
    async rotate() {
      const h = handle;
      // What was written reaches the disk before the file is moved and the next one begins.
      if (h !== undefined) await (await h).file.datasync();
      await close();
      const info = await stat(path).catch(() => undefined);
      if (info === undefined) return undefined;
      const target = await rotatedName(path, now());
      await rename(path, target);
      return target;
    },
    async expired() {
      const retainMs = options.retainMs;
      if (retainMs === undefined) return [];
      const cutoff = now().getTime() - retainMs;
      return (await rotatedFiles(path)).filter((f) => Date.parse(f.lastTime) < cutoff);
    },
    async remove(rotated) {
      await unlink(rotated.path);
    },
  };
}

/** Writes all of `bytes` to `fd` (a write may take only part of them). */
function writeWhole(fd: number, bytes: Buffer): void {
  for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
}

/** Time (ms) of the first entry of a file, or now when it has none that says. */
async function firstEntryMs(path: string, size: number): Promise<number | undefined> {
  for await (const line of linesForward(path, size)) {
    try {
      const time = Date.parse(String((JSON.parse(line) as { time?: unknown }).time));
      return Number.isFinite(time) ? time : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Reads a file's lines back, for {@link AuditSink.history}. */
async function fileHistory(path: string): Promise<SinkHistory> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  const kind = info === undefined ? 'absent' : info.isFile() ? 'regular' : 'special';
  const size = kind === 'regular' ? (info?.size ?? 0) : 0;
  return {
    kind,
    size,
    backward: () => linesBackward(path, size),
    first: async () => {
      for await (const line of linesForward(path, size)) return line;
      return undefined;
    },
  };
}

/**
 * Complete lines of the first `size` bytes of `path` (or of an open handle, which stays open),
 * last first (a torn last line is skipped),
 * read in chunks from the end, so finding a recent line does not read a large file whole.
 *
 * @example
 * ```ts
 * for await (const line of linesBackward('audit.log', (await stat('audit.log')).size)) break;
 * ```
 */
export async function* linesBackward(
  path: string | FileHandle,
  size: number,
  chunkBytes = CHUNK_BYTES,
): AsyncGenerator<string> {
  if (size === 0) return;
  // A handle given is the caller's (read through it, left open); a path is opened here.
  const owned = typeof path === 'string';
  const reader = typeof path === 'string' ? await open(path, 'r') : path;
  try {
    let end = size;
    let rest = Buffer.alloc(0); // the start of the file up to here is not read yet
    let sawNewline = false; // bytes after the file's last newline are a torn line, not yielded
    while (end > 0) {
      const start = Math.max(0, end - chunkBytes);
      const chunk = Buffer.alloc(end - start);
      await reader.read(chunk, 0, chunk.length, start);
      const data = Buffer.concat([chunk, rest]);
      let right = data.length;
      let newline = data.lastIndexOf(NEWLINE, right - 1);
      while (newline !== -1) {
        const line = data.subarray(newline + 1, right);
        if (sawNewline && line.length > 0) yield line.toString('utf8');
        sawNewline = true;
        right = newline;
        newline = right > 0 ? data.lastIndexOf(NEWLINE, right - 1) : -1;
      }
      rest = data.subarray(0, right);
      end = start;
    }
    if (sawNewline && rest.length > 0) yield rest.toString('utf8');
  } finally {
    if (owned) await reader.close();
  }
}

/** Complete lines of the first `size` bytes of `path`, first first. */
export async function* linesForward(
  path: string,
  size: number,
  chunkBytes = CHUNK_BYTES,
): AsyncGenerator<string> {
  if (size === 0) return;
  const reader = await open(path, 'r');
  try {
    let position = 0;
    let rest = Buffer.alloc(0);
    while (position < size) {
      const chunk = Buffer.alloc(Math.min(chunkBytes, size - position));
      const { bytesRead } = await reader.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      let data = Buffer.concat([rest, chunk.subarray(0, bytesRead)]);
      let newline = data.indexOf(NEWLINE);
      while (newline !== -1) {
        const line = data.subarray(0, newline);
        if (line.length > 0) yield line.toString('utf8');
        data = data.subarray(newline + 1);
        newline = data.indexOf(NEWLINE);
      }
      rest = data;
    }
  } finally {
    await reader.close();
  }
}

/** Writes to standard output (for containers whose log collector keeps the lines). */
export function createStdoutSink(name = 'stdout'): AuditSink {
  return {
    name,
    destination: 'stdout',
    write: (line) =>
      new Promise((resolve, reject) => {
        process.stdout.write(`${line}\n`, (err) => (err ? reject(err) : resolve()));
      }),
    close: async () => {},
  };
}
