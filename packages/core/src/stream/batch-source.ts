import { type FileHandle, open } from 'node:fs/promises';
import { CustosError } from '../errors/index.js';
import type { BackupInput } from './input.js';

/**
 * Where the chunk sealers and openers take their bytes from: whole batch buffers, filled in
 * place. At most one {@link fill} is in flight at a time; the caller owns `buffer` again once it
 * resolved.
 */
export interface BatchSource {
  /**
   * Whether the next batch is best read while the one before it is sealed (a file, read on the
   * thread pool); a stream is pulled only when its bytes are needed.
   */
  readonly readsAhead: boolean;
  /**
   * Fills `buffer` from its start, as far as the input goes: resolves the byte count, which is
   * less than `buffer.length` only at the end of the input (0 once it is over).
   */
  fill(buffer: Buffer): Promise<number>;
  /** Releases the input (a file handle); a stream is stopped early if it was not read to its end. */
  close(): Promise<void>;
}

/**
 * A file read straight into the batch buffers (no intermediate piece, no copy). Reads are
 * asynchronous, so the next batch is read on the thread pool while this thread seals or opens
 * the one before it.
 */
export class FileBatchSource implements BatchSource {
  /** A regular file; a named pipe or a device (which may stay silent) is read only on demand. */
  readonly readsAhead: boolean;
  readonly #handle: FileHandle;

  private constructor(handle: FileHandle, regular: boolean) {
    this.#handle = handle;
    this.readsAhead = regular;
  }

  static async open(path: string): Promise<FileBatchSource> {
    const handle = await open(path, 'r');
    try {
      return new FileBatchSource(handle, (await handle.stat()).isFile());
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** The next `n` bytes (fewer at the end of the file), in a buffer of their own: the header. */
  async read(n: number): Promise<Buffer> {
    const bytes = Buffer.alloc(n);
    return bytes.subarray(0, await this.fill(bytes));
  }

  async fill(buffer: Buffer): Promise<number> {
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await this.#handle.read(buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled;
  }

  close(): Promise<void> {
    return this.#handle.close();
  }
}

/** Pieces of a stream copied into the batch buffers (a piece may be reused once copied). */
export class IterableBatchSource implements BatchSource {
  readonly readsAhead = false;
  readonly #iterator: AsyncIterator<Uint8Array>;
  /** What is left of the piece a batch did not take in full. */
  #rest: Buffer = Buffer.alloc(0);
  #done = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#iterator = source[Symbol.asyncIterator]();
  }

  async fill(buffer: Buffer): Promise<number> {
    let filled = 0;
    for (;;) {
      if (this.#rest.length > 0) {
        const n = this.#rest.copy(buffer, filled);
        filled += n;
        this.#rest = this.#rest.subarray(n);
      }
      if (filled === buffer.length || this.#done) return filled;
      const next = await this.#iterator.next();
      if (next.done) this.#done = true;
      else this.#rest = asBuffer(next.value);
    }
  }

  async close(): Promise<void> {
    this.#rest = Buffer.alloc(0);
    if (!this.#done) {
      this.#done = true;
      await this.#iterator.return?.();
    }
  }
}

/** The batch source of `input`: a path is opened (and read in place), a stream is copied. */
export async function batchSourceOf(input: BackupInput): Promise<BatchSource> {
  return typeof input === 'string' ? FileBatchSource.open(input) : new IterableBatchSource(input);
}

function asBuffer(piece: Uint8Array): Buffer {
  if (Buffer.isBuffer(piece)) return piece;
  if (piece instanceof Uint8Array) return Buffer.from(piece.buffer, piece.byteOffset, piece.length);
  throw new CustosError('ERR_INVALID_ARGUMENT', 'a backup stream carries bytes, not strings');
}
