import { type AeadKey, open, sealParts } from '../crypto/aead.js';
import { CustosError, DecryptionFailed } from '../errors/index.js';
import type { BatchSource } from './batch-source.js';
import { type BatchJob, ChunkPool, poolSize } from './chunk-pool.js';
import { CHUNK_SIZE, SEALED_CHUNK_SIZE, TAG_LENGTH } from './format.js';

const NO_AAD = Buffer.alloc(0);

/**
 * The STREAM nonce of chunk `counter`: an 11-byte big-endian counter, then the last-chunk flag
 * (1 on the last chunk, 0 on every other). The payload key is unique per file, so each nonce is
 * used once.
 */
function chunkNonce(nonce: Buffer, counter: number, last: boolean): Buffer {
  nonce.fill(0);
  nonce.writeUInt32BE(Math.floor(counter / 2 ** 32), 3);
  nonce.writeUInt32BE(counter >>> 0, 7);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** Chunks per batch: what one worker seals or opens at a time (1 MiB of plaintext). */
const BATCH_CHUNKS = 16;
const PLAIN_BATCH = CHUNK_SIZE * BATCH_CHUNKS;
const SEALED_BATCH = SEALED_CHUNK_SIZE * BATCH_CHUNKS;
/** Batches handled on the calling thread before a pool starts: small files never start one. */
const INLINE_BATCHES = 4;
/** Batches in flight per worker: enough to keep every core busy, memory a few MiB. */
const QUEUED_PER_WORKER = 3;

/** What a batch gave: its pieces in order, and the counter of the chunk that failed (or -1). */
interface Batch {
  readonly pieces: readonly Buffer[];
  readonly failed: number;
}

/**
 * Runs batches on the calling thread first, then (a stream longer than a few MiB, more than one
 * core) on a pool of worker threads, keeping their answers in order. At most a few batches are
 * in flight: memory stays flat whatever the stream's size.
 */
class BatchRunner {
  readonly #key: AeadKey;
  readonly #workers = poolSize();
  readonly #queue: Promise<Batch>[] = [];
  #pool: ChunkPool | undefined;
  #batches = 0;
  /** Batch buffers back from their job, reused: no fresh pages to fault in per batch. */
  readonly #spare: Buffer[] = [];

  constructor(key: AeadKey) {
    this.#key = key;
  }

  /** Queues a batch; `inline` computes it here, `job` is what a worker gets otherwise. */
  push(job: BatchJob, inline: () => Batch): void {
    const onThisThread =
      this.#workers === 0 ||
      (this.#pool === undefined && (job.last || this.#batches < INLINE_BATCHES));
    this.#batches++;
    let answer: Promise<Batch>;
    if (onThisThread) {
      try {
        answer = Promise.resolve(inline());
      } catch (err) {
        answer = Promise.reject(err);
      }
      // Its output is the cipher's own: the batch buffer is free again.
      this.#spare.push(job.data);
    } else {
      this.#pool ??= new ChunkPool(this.#key, this.#workers);
      answer = this.#pool.run(job).then(({ pieces, failed, input }) => {
        this.#spare.push(input);
        return { pieces, failed };
      });
    }
    // Awaited in order later; a failure while an earlier batch is awaited is not unhandled.
    answer.catch(() => {});
    this.#queue.push(answer);
  }

  /** A buffer for the next batch: a spare one of the same size, or a new one. */
  buffer(size: number): Buffer {
    const spare = this.#spare.pop();
    return spare !== undefined && spare.buffer.byteLength === size
      ? Buffer.from(spare.buffer, 0, size)
      : Buffer.allocUnsafeSlow(size);
  }

  /** Whether the caller should take answers before queuing more. */
  get full(): boolean {
    // On this thread an answer is ready at once: hand it over before reading on.
    const limit = this.#pool === undefined ? 1 : this.#workers * QUEUED_PER_WORKER;
    return this.#queue.length >= limit;
  }

  get empty(): boolean {
    return this.#queue.length === 0;
  }

  /** The oldest batch's answer. */
  next(): Promise<Batch> {
    return this.#queue.shift() as Promise<Batch>;
  }

  async close(): Promise<void> {
    this.#queue.length = 0;
    await this.#pool?.close();
  }
}

function sealBatch(key: AeadKey, data: Buffer, counter: number, last: boolean): Batch {
  const nonce = Buffer.alloc(12);
  const chunks = Math.max(1, Math.ceil(data.length / CHUNK_SIZE));
  const pieces: Buffer[] = [];
  for (let i = 0; i < chunks; i++) {
    const chunk = data.subarray(i * CHUNK_SIZE, Math.min(data.length, (i + 1) * CHUNK_SIZE));
    const isLast = last && i === chunks - 1;
    pieces.push(...sealParts(key, chunkNonce(nonce, counter + i, isLast), chunk, NO_AAD));
  }
  return { pieces, failed: -1 };
}

/**
 * Reads batches from `source`. For a source that reads ahead (a file), `start` begins filling a
 * buffer at once (on the thread pool) while this thread seals or opens the batch before it; a
 * read still in flight when the stream stops is waited for, so its buffer and file handle are
 * never used after. A stream's pieces are pulled only when the read is awaited: nothing is
 * pending while the caller is suspended, so a consumer that stops early never waits on a source
 * that has nothing more to give.
 */
class ReadAhead {
  readonly #source: BatchSource;
  #inFlight: Promise<number> | undefined;

  constructor(source: BatchSource) {
    this.#source = source;
  }

  start(buffer: Buffer): () => Promise<number> {
    if (!this.#source.readsAhead) return () => this.#source.fill(buffer);
    const read = this.#source.fill(buffer);
    // Awaited by the caller in turn; a failure while it yields is not unhandled.
    read.catch(() => {});
    this.#inFlight = read;
    return () => read;
  }

  async settle(): Promise<void> {
    await this.#inFlight?.catch(() => {});
  }
}

/**
 * Splits `source` into 64 KiB chunks and seals each under `key` with its counter and the
 * last-chunk flag. A chunk is sealed only once it is known whether more data follows, so a full
 * batch waits until the next batch is read (for a file, the read after that one is already under
 * way while it is sealed); every chunk but the last is full, and the last is empty only when the
 * whole input is. Chunks are sealed in batches of 16, on worker threads once the
 * stream is longer than a few MiB (see {@link BatchRunner}); sealed chunks leave in order,
 * ciphertext then tag. Memory stays at a few batches whatever the input size.
 */
export async function* sealChunks(source: BatchSource, key: AeadKey): AsyncGenerator<Buffer> {
  const runner = new BatchRunner(key);
  const reads = new ReadAhead(source);
  let counter = 0;
  const dispatch = (data: Buffer, last: boolean) => {
    const first = counter;
    counter += Math.max(1, Math.ceil(data.length / CHUNK_SIZE));
    runner.push({ op: 'seal', data, counter: first, last }, () =>
      sealBatch(key, data, first, last),
    );
  };
  try {
    let current = runner.buffer(PLAIN_BATCH);
    let length = await reads.start(current)();
    let next = length === PLAIN_BATCH ? runner.buffer(PLAIN_BATCH) : undefined;
    let nextRead = next === undefined ? undefined : reads.start(next);
    for (;;) {
      // A short batch is the last one.
      if (next === undefined || nextRead === undefined) {
        dispatch(current.subarray(0, length), true);
        break;
      }
      const nextLength = await nextRead();
      // A full batch with nothing after it is the last one too.
      if (nextLength === 0) {
        dispatch(current, true);
        break;
      }
      const after = nextLength === PLAIN_BATCH ? runner.buffer(PLAIN_BATCH) : undefined;
      const afterRead = after === undefined ? undefined : reads.start(after);
      dispatch(current, false);
      while (runner.full) yield* (await runner.next()).pieces;
      current = next;
      length = nextLength;
      next = after;
      nextRead = afterRead;
    }
    while (!runner.empty) yield* (await runner.next()).pieces;
  } finally {
    await reads.settle();
    await runner.close();
  }
}

function openOne(key: AeadKey, sealed: Buffer, counter: number, last: boolean): Buffer {
  try {
    return open(key, chunkNonce(Buffer.alloc(12), counter, last), sealed, NO_AAD);
  } catch {
    throw failedChunk(counter);
  }
}

function failedChunk(counter: number): DecryptionFailed {
  return new DecryptionFailed(
    `backup chunk ${counter + 1} failed authentication: the file was modified, or its chunks were reordered, repeated or taken from another file`,
  );
}

function openBatch(key: AeadKey, data: Buffer, counter: number): Batch {
  const pieces: Buffer[] = [];
  for (let i = 0; i * SEALED_CHUNK_SIZE < data.length; i++) {
    const sealed = data.subarray(i * SEALED_CHUNK_SIZE, (i + 1) * SEALED_CHUNK_SIZE);
    try {
      pieces.push(open(key, chunkNonce(Buffer.alloc(12), counter + i, false), sealed, NO_AAD));
    } catch {
      return { pieces, failed: counter + i };
    }
  }
  return { pieces, failed: -1 };
}

function* released(batch: Batch): Generator<Buffer> {
  yield* batch.pieces;
  if (batch.failed >= 0) throw failedChunk(batch.failed);
}

/**
 * Opens the sealed chunks of `source` and yields each chunk's plaintext only after its tag
 * verified, in order. A stream that stops before its last chunk, at a chunk boundary or
 * inside one, fails at its end: `ERR_BACKUP_TRUNCATED` when the data stops cleanly after a
 * chunk that is not the last, `ERR_DECRYPTION_FAILED` for any changed, moved, repeated or
 * foreign chunk. Everything yielded before the failure is authentic. Whole batches of 16 chunks
 * known not to hold the last chunk (more bytes follow them) are opened in batches, on worker
 * threads once the stream is long enough, while the batch after the next is read; the rest,
 * with the last-chunk rules, on this thread.
 */
export async function* openChunks(source: BatchSource, key: AeadKey): AsyncGenerator<Buffer> {
  const runner = new BatchRunner(key);
  const reads = new ReadAhead(source);
  let counter = 0;
  let current = runner.buffer(SEALED_BATCH);
  let length = 0;
  try {
    length = await reads.start(current)();
    let next = length === SEALED_BATCH ? runner.buffer(SEALED_BATCH) : undefined;
    let nextRead = next === undefined ? undefined : reads.start(next);
    // A batch leaves this loop for the workers only when bytes follow it: it cannot hold the
    // last chunk. The batch that ends the stream stays `current`, the tail.
    while (next !== undefined && nextRead !== undefined) {
      const nextLength = await nextRead();
      if (nextLength === 0) break;
      const after = nextLength === SEALED_BATCH ? runner.buffer(SEALED_BATCH) : undefined;
      const afterRead = after === undefined ? undefined : reads.start(after);
      const data = current;
      const first = counter;
      runner.push({ op: 'open', data, counter: first, last: false }, () =>
        openBatch(key, data, first),
      );
      counter += BATCH_CHUNKS;
      while (runner.full) yield* released(await runner.next());
      current = next;
      length = nextLength;
      next = after;
      nextRead = afterRead;
    }
    while (!runner.empty) yield* released(await runner.next());
  } finally {
    await reads.settle();
    await runner.close();
  }
  // The tail: up to a batch, ending with the last chunk.
  const tail = current.subarray(0, length);
  let offset = 0;
  while (tail.length - offset > SEALED_CHUNK_SIZE) {
    yield openOne(key, tail.subarray(offset, offset + SEALED_CHUNK_SIZE), counter, false);
    counter++;
    offset += SEALED_CHUNK_SIZE;
  }
  const last = openLast(key, tail.subarray(offset), counter);
  yield last;
}

function openLast(key: AeadKey, sealed: Buffer, counter: number): Buffer {
  if (sealed.length < TAG_LENGTH) throw truncated(counter);
  try {
    return openOne(key, sealed, counter, true);
  } catch (err) {
    // A full chunk sealed as "not last" at the very end: the chunks after it were cut off.
    if (sealed.length === SEALED_CHUNK_SIZE) {
      let authenticNotLast = false;
      try {
        openOne(key, sealed, counter, false);
        authenticNotLast = true;
      } catch {}
      if (authenticNotLast) throw truncated(counter + 1);
    }
    throw err;
  }
}

function truncated(chunks: number): CustosError {
  return new CustosError(
    'ERR_BACKUP_TRUNCATED',
    `the backup ends after ${chunks} chunk${chunks === 1 ? '' : 's'} without its last chunk: it was truncated`,
  );
}
