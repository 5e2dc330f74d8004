import { randomBytes } from 'node:crypto';
import { type FileHandle, link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CustosError } from '../errors/index.js';

/** Options of {@link writeFileAtomic} and {@link writeStreamAtomic}. */
export interface AtomicWriteOptions {
  /** Refuse (`ERR_INVALID_ARGUMENT`) when `path` exists instead of replacing it. */
  readonly exclusive?: boolean;
}

/**
 * Writes `data` to `path` so that readers see either the old file or the whole new one, never
 * a torn write: a temporary file in the same directory, created with `mode`, flushed to disk,
 * then renamed over the target.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode: number,
  options: AtomicWriteOptions = {},
): Promise<void> {
  await writeAtomic(path, mode, options, (handle) => handle.writeFile(data));
}

/**
 * Writes everything `source` yields to `path` as {@link writeFileAtomic} does: into a temporary
 * file beside it, renamed over `path` only once the source ended without error. On any failure
 * the temporary file is removed, so nothing partial is ever left under either name.
 */
export async function writeStreamAtomic(
  path: string,
  source: AsyncIterable<Uint8Array>,
  mode: number,
  options: AtomicWriteOptions = {},
): Promise<void> {
  await writeAtomic(path, mode, options, async (handle) => {
    // Pieces are gathered up to 1 MiB and written with one writev (few system calls, no copy),
    // one batch in flight while the source makes the next; they must not be reused once yielded.
    let batch: Uint8Array[] = [];
    let batched = 0;
    let writing: Promise<void> = Promise.resolve();
    try {
      for await (const piece of source) {
        batch.push(piece);
        batched += piece.length;
        if (batched >= WRITE_BATCH) {
          await writing;
          writing = writeAll(handle, batch, batched);
          // Awaited before the next batch; a failure meanwhile is not unhandled.
          writing.catch(() => {});
          batch = [];
          batched = 0;
        }
      }
      await writing;
      if (batch.length > 0) await writeAll(handle, batch, batched);
    } finally {
      // Never close the handle under a write still in flight.
      await writing.catch(() => {});
    }
  });
}

/** writev may write less than asked (a signal, a full quota); the rest goes out in full. */
async function writeAll(handle: FileHandle, pieces: Uint8Array[], length: number): Promise<void> {
  const { bytesWritten } = await handle.writev(pieces);
  if (bytesWritten < length) await handle.writeFile(Buffer.concat(pieces).subarray(bytesWritten));
}

const WRITE_BATCH = 1 << 20;

async function writeAtomic(
  path: string,
  mode: number,
  options: AtomicWriteOptions,
  write: (handle: FileHandle) => Promise<void>,
): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    await write(handle);
    await handle.chmod(mode);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(temp).catch(() => {});
    throw err;
  }
  await handle.close();
  try {
    if (options.exclusive) {
      // link fails when the target exists, where rename would replace it.
      await link(temp, path);
      await unlink(temp);
    } else {
      await rename(temp, path);
    }
  } catch (err) {
    await unlink(temp).catch(() => {});
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CustosError('ERR_INVALID_ARGUMENT', `${path} exists; it is not replaced`);
    }
    throw err;
  }
}
