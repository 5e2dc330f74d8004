import { once } from 'node:events';
import { fstatSync, read, writeSync, writev } from 'node:fs';
import { CustosError } from '@custos/core/errors';

/**
 * The named file, or standard input (no name, or `-`). Standard input redirected from a file
 * (`< db.sql`) is read from descriptor 0 itself, from where it stands (as `cat` reads it), in
 * 1 MiB pieces into one reused buffer: none of a stream's machinery and no fresh buffer per
 * 64 KiB. A pipe, socket or terminal stays `process.stdin`.
 */
export function inputOf(path: string | undefined): AsyncIterable<Uint8Array> | string {
  if (path !== undefined && path !== '-') return path;
  return fstatSync(0).isFile() ? readStdinFile() : process.stdin;
}

/**
 * Descriptor 0, a regular file, in pieces of one reused buffer. Each piece is valid until the
 * next is pulled: every consumer here (the chunk sealers and openers, the header reader) copies
 * what it keeps before pulling again.
 */
async function* readStdinFile(): AsyncGenerator<Buffer> {
  const buffer = Buffer.allocUnsafeSlow(1 << 20);
  for (;;) {
    const bytes = await new Promise<number>((resolve, reject) =>
      read(0, buffer, 0, buffer.length, null, (err, n) => (err ? reject(err) : resolve(n))),
    );
    if (bytes === 0) return;
    yield buffer.subarray(0, bytes);
  }
}

/** Streams to standard output, refusing a terminal: a backup is binary and may be large. */
export async function toStdout(source: AsyncIterable<Uint8Array>, what: string): Promise<void> {
  if (process.stdout.isTTY) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `refusing to write ${what} to a terminal: pass --out <file> or redirect standard output`,
    );
  }
  if (fstatSync(1).isFile() || fstatSync(1).isCharacterDevice()) {
    // A file or /dev/null: gather pieces into one writev each (fewer system calls, no copy).
    await writeBatches(source);
  } else {
    // Not pipeline(): on a failure of the source (a wrong key, a damaged chunk) it would destroy
    // standard output with that error, which then surfaces as an unhandled 'error' event (exit 1
    // and a stack) instead of the command's typed error (exit 2).
    for await (const piece of source) {
      if (!process.stdout.write(piece)) await once(process.stdout, 'drain');
    }
  }
}

const BATCH_BYTES = 1 << 20;

/**
 * Gathers pieces up to 1 MiB and writes each batch with one writev on the thread pool, one batch
 * in flight: this thread seals or opens the next batch while the kernel copies the last one (no
 * copy of ours, few system calls). The pieces are the cipher's own buffers, never reused.
 */
async function writeBatches(source: AsyncIterable<Uint8Array>): Promise<void> {
  let batch: Uint8Array[] = [];
  let batched = 0;
  let writing: Promise<void> = Promise.resolve();
  try {
    for await (const piece of source) {
      batch.push(piece);
      batched += piece.length;
      if (batched >= BATCH_BYTES) {
        await writing;
        writing = writeAll(batch, batched);
        // Awaited before the next batch; a failure meanwhile is not unhandled.
        writing.catch(() => {});
        batch = [];
        batched = 0;
      }
    }
    await writing;
    if (batched > 0) await writeAll(batch, batched);
  } finally {
    await writing.catch(() => {});
  }
}

async function writeAll(pieces: Uint8Array[], length: number): Promise<void> {
  const written = await new Promise<number>((resolve, reject) =>
    writev(1, pieces, (err, bytes) => (err ? reject(err) : resolve(bytes))),
  );
  // A short write (a signal, a full disk quota) leaves the rest to write in full.
  if (written < length) {
    const rest = Buffer.concat(pieces).subarray(written);
    for (let offset = 0; offset < rest.length; ) offset += writeSync(1, rest, offset);
  }
}
