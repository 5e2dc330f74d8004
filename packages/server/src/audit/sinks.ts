import { type FileHandle, open, stat } from 'node:fs/promises';

/** Where audit lines go. A sink writes whole lines, one at a time, in order. */
export interface AuditSink {
  readonly name: string;
  /** Appends one or more lines (joined by newlines, without the final newline). */
  write(lines: string): Promise<void>;
  /** The last complete line already in the sink, to continue its hash chain after a restart. */
  lastLine(): Promise<{ line: string; torn: boolean } | undefined>;
  close(): Promise<void>;
  /** Closes and reopens the destination (log rotation); optional. */
  reopen?(): Promise<void>;
}

const TAIL_BYTES = 64 * 1024;

/**
 * Appends to a file (created with mode 0600). The file is opened lazily on the first write and
 * reopened after `reopen()` (for log rotation on SIGHUP).
 *
 * @example
 * ```ts
 * const sink = createFileSink('file', '/var/log/custos/audit.log');
 * ```
 */
export function createFileSink(name: string, path: string): AuditSink {
  let handle: Promise<FileHandle> | undefined;
  const file = () => {
    handle ??= open(path, 'a', 0o600);
    return handle;
  };
  return {
    name,
    async write(line) {
      const h = await file();
      await h.write(`${line}\n`);
    },
    async lastLine() {
      const info = await stat(path).catch(() => undefined);
      if (info === undefined || !info.isFile() || info.size === 0) return undefined;
      const reader = await open(path, 'r');
      try {
        const length = Math.min(TAIL_BYTES, info.size);
        const buffer = Buffer.alloc(length);
        await reader.read(buffer, 0, length, info.size - length);
        const text = buffer.toString('utf8');
        const torn = !text.endsWith('\n');
        const lines = text.split('\n').filter((l) => l.length > 0);
        const last = torn ? lines.at(-2) : lines.at(-1);
        return last === undefined ? undefined : { line: last, torn };
      } finally {
        await reader.close();
      }
    },
    async close() {
      const h = handle;
      handle = undefined;
      if (h !== undefined) await (await h).close();
    },
    async reopen() {
      await this.close();
    },
  };
}

/** Writes to standard output (for containers whose log collector keeps the lines). */
export function createStdoutSink(name = 'stdout'): AuditSink {
  return {
    name,
    write: (line) =>
      new Promise((resolve, reject) => {
        process.stdout.write(`${line}\n`, (err) => (err ? reject(err) : resolve()));
      }),
    lastLine: async () => undefined,
    close: async () => {},
  };
}
