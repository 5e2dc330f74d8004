import { type AeadKey, open, sealParts } from '../crypto/aead.js';
import { CustosError, DecryptionFailed } from '../errors/index.js';
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

/**
 * Splits `source` into 64 KiB chunks and seals each under `key` with its counter and the
 * last-chunk flag. A chunk is sealed only once it is known whether more data follows, so a full
 * chunk waits for the next byte; every chunk but the last is full, and the last is empty only
 * when the whole input is. Each sealed chunk leaves as two pieces, ciphertext then tag, as the
 * cipher made them: no copy (a writer gathers them into one `writev`). Memory stays at one chunk
 * whatever the input size.
 */
export async function* sealChunks(
  source: AsyncIterable<Uint8Array>,
  key: AeadKey,
): AsyncGenerator<Buffer> {
  const nonce = Buffer.alloc(12);
  const pending = Buffer.allocUnsafe(CHUNK_SIZE);
  let filled = 0;
  let counter = 0;
  const sealOne = (chunk: Buffer, last: boolean) =>
    sealParts(key, chunkNonce(nonce, counter++, last), chunk, NO_AAD);
  for await (const input of source) {
    const piece = asBuffer(input);
    let offset = 0;
    while (offset < piece.length) {
      if (filled === CHUNK_SIZE) {
        yield* sealOne(pending, false);
        filled = 0;
      }
      // A whole chunk with more after it, straight from the input: no copy.
      if (filled === 0 && piece.length - offset > CHUNK_SIZE) {
        yield* sealOne(piece.subarray(offset, offset + CHUNK_SIZE), false);
        offset += CHUNK_SIZE;
        continue;
      }
      const n = Math.min(CHUNK_SIZE - filled, piece.length - offset);
      piece.copy(pending, filled, offset, offset + n);
      filled += n;
      offset += n;
    }
  }
  yield* sealOne(pending.subarray(0, filled), true);
}

/**
 * Opens the sealed chunks of `source` one at a time and yields each chunk's plaintext only
 * after its tag verified. A stream that stops before its last chunk, at a chunk boundary or
 * inside one, fails at its end: `ERR_BACKUP_TRUNCATED` when the data stops cleanly after a
 * chunk that is not the last, `ERR_DECRYPTION_FAILED` for any changed, moved, repeated or
 * foreign chunk. Everything yielded before the failure is authentic.
 */
export async function* openChunks(
  source: AsyncIterable<Uint8Array>,
  key: AeadKey,
): AsyncGenerator<Buffer> {
  const nonce = Buffer.alloc(12);
  const pending = Buffer.allocUnsafe(SEALED_CHUNK_SIZE);
  let filled = 0;
  let counter = 0;
  const openChunk = (sealed: Buffer, last: boolean) => {
    try {
      return open(key, chunkNonce(nonce, counter, last), sealed, NO_AAD);
    } catch {
      throw new DecryptionFailed(
        `backup chunk ${counter + 1} failed authentication: the file was modified, or its chunks were reordered, repeated or taken from another file`,
      );
    }
  };
  for await (const input of source) {
    const piece = asBuffer(input);
    let offset = 0;
    while (offset < piece.length) {
      if (filled === SEALED_CHUNK_SIZE) {
        yield openChunk(pending, false);
        counter++;
        filled = 0;
      }
      if (filled === 0 && piece.length - offset > SEALED_CHUNK_SIZE) {
        yield openChunk(piece.subarray(offset, offset + SEALED_CHUNK_SIZE), false);
        counter++;
        offset += SEALED_CHUNK_SIZE;
        continue;
      }
      const n = Math.min(SEALED_CHUNK_SIZE - filled, piece.length - offset);
      piece.copy(pending, filled, offset, offset + n);
      filled += n;
      offset += n;
    }
  }
  yield openLast(pending.subarray(0, filled), counter, openChunk);
}

function openLast(
  sealed: Buffer,
  counter: number,
  openChunk: (sealed: Buffer, last: boolean) => Buffer,
): Buffer {
  if (sealed.length < TAG_LENGTH) throw truncated(counter);
  try {
    return openChunk(sealed, true);
  } catch (err) {
    // A full chunk sealed as "not last" at the very end: the chunks after it were cut off.
    if (sealed.length === SEALED_CHUNK_SIZE) {
      let authenticNotLast = false;
      try {
        openChunk(sealed, false);
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

function asBuffer(piece: Uint8Array): Buffer {
  if (Buffer.isBuffer(piece)) return piece;
  if (piece instanceof Uint8Array) return Buffer.from(piece.buffer, piece.byteOffset, piece.length);
  throw new CustosError('ERR_INVALID_ARGUMENT', 'a backup stream carries bytes, not strings');
}
