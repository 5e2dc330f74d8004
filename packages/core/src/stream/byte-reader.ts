/**
 * Reads exact byte counts from an async iterable of pieces (a stream), then hands back the
 * rest: what was read beyond the last request, followed by the pieces not yet read.
 */
export class ByteReader {
  readonly #iterator: AsyncIterator<Uint8Array>;
  #buffered: Buffer = Buffer.alloc(0);
  #done = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#iterator = source[Symbol.asyncIterator]();
  }

  /** Returns the next `n` bytes, or fewer when the source ends first. */
  async read(n: number): Promise<Buffer> {
    while (this.#buffered.length < n && !this.#done) {
      const next = await this.#iterator.next();
      if (next.done) this.#done = true;
      else if (next.value.length > 0) {
        this.#buffered = Buffer.concat([this.#buffered, toBuffer(next.value)]);
      }
    }
    const out = this.#buffered.subarray(0, n);
    this.#buffered = this.#buffered.subarray(out.length);
    return out;
  }

  /** The bytes not yet read, as they arrive. */
  async *rest(): AsyncGenerator<Buffer> {
    if (this.#buffered.length > 0) yield this.#buffered;
    this.#buffered = Buffer.alloc(0);
    if (this.#done) return;
    for (;;) {
      const next = await this.#iterator.next();
      if (next.done) return;
      yield toBuffer(next.value);
    }
  }

  /** Stops the source early (a failure before its end). */
  async close(): Promise<void> {
    await this.#iterator.return?.();
  }
}

function toBuffer(piece: Uint8Array): Buffer {
  return Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.length);
}
