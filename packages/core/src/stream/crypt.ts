import { Duplex } from 'node:stream';
import { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { AeadKey } from '../crypto/aead.js';
import { batchSourceOf, FileBatchSource, IterableBatchSource } from './batch-source.js';
import { ByteReader } from './byte-reader.js';
import { openChunks, sealChunks } from './chunks.js';
import { type ParsedHeader, parseHeader } from './format.js';
import { createHeader, payloadKeyOf, unlockHeader } from './header.js';
import { type BackupInput, bytesOf } from './input.js';
import type { BackupIdentity, BackupRecipient } from './recipient.js';

/** Options of every encrypting function: whom the backup is for (1 to 32 recipients). */
export interface BackupEncryptOptions {
  readonly recipients: readonly BackupRecipient[];
}

/** Options of every decrypting function: the keys to try, in order. */
export interface BackupDecryptOptions {
  readonly identities: readonly BackupIdentity[];
}

/**
 * Encrypts the bytes of `source` (a file path, or any async iterable of bytes) into a custos
 * backup (see `FORMAT.md`), yielding the header, then each sealed 64 KiB chunk as it is ready.
 * Memory stays flat whatever the size; the consumer's pace is the producer's (backpressure).
 *
 * @example
 * ```ts
 * for await (const piece of encryptIterable(createReadStream('db.sql'), { recipients })) out.write(piece);
 * ```
 */
export async function* encryptIterable(
  source: BackupInput,
  options: BackupEncryptOptions,
): AsyncGenerator<Buffer> {
  const { bytes, payloadKey } = await createHeader(options.recipients);
  yield bytes;
  const input = await batchSourceOf(source);
  try {
    yield* sealChunks(input, payloadKey);
  } finally {
    await input.close();
  }
}

/**
 * Decrypts a custos backup from `source`, yielding plaintext one authenticated chunk at a time.
 * Fails with a typed error: `ERR_MALFORMED_CIPHERTEXT` (not a backup, unsupported version),
 * `ERR_BACKUP_KEY_MISMATCH` (no identity opens it), `ERR_DECRYPTION_FAILED` (a modified header
 * or chunk), `ERR_BACKUP_TRUNCATED` (cut after a chunk). What was yielded before a failure is
 * authentic but incomplete: write to a temporary file and keep it only on success (as
 * {@link decryptFile} does).
 *
 * @example
 * ```ts
 * for await (const piece of decryptIterable(createReadStream('db.sql.cbk'), { identities })) hash.update(piece);
 * ```
 */
export async function* decryptIterable(
  source: BackupInput,
  options: BackupDecryptOptions,
): AsyncGenerator<Buffer> {
  if (typeof source === 'string') {
    // A file: the header, then the chunks read straight into the batch buffers.
    const file = await FileBatchSource.open(source);
    try {
      const payloadKey = await unlockPayload((n) => file.read(n), options);
      yield* openChunks(file, payloadKey);
    } finally {
      await file.close();
    }
    return;
  }
  const reader = new ByteReader(source);
  try {
    const payloadKey = await unlockPayload((n) => reader.read(n), options);
    yield* openChunks(new IterableBatchSource(reader.rest()), payloadKey);
  } finally {
    await reader.close();
  }
}

/** Parses and unlocks a header: the payload key of the chunks after it. */
async function unlockPayload(
  read: (n: number) => Promise<Buffer>,
  options: BackupDecryptOptions,
): Promise<AeadKey> {
  const header = await parseHeader(read);
  const fileKey = await unlockHeader(header, options.identities);
  const payloadKey = payloadKeyOf(fileKey, header.payloadSalt);
  fileKey.fill(0);
  return payloadKey;
}

/**
 * A Node.js transform stream that encrypts what is written to it into a custos backup.
 *
 * @example
 * ```ts
 * await pipeline(process.stdin, encryptStream({ recipients: [x25519Recipient(r)] }), process.stdout);
 * ```
 */
export function encryptStream(options: BackupEncryptOptions): Duplex {
  return Duplex.from((source: AsyncIterable<Uint8Array>) => encryptIterable(source, options));
}

/**
 * A Node.js transform stream that decrypts a custos backup written to it; it errors (typed, see
 * {@link decryptIterable}) on any tampering, after passing on only authenticated chunks.
 *
 * @example
 * ```ts
 * await pipeline(createReadStream('db.sql.cbk'), decryptStream({ identities }), createWriteStream('db.sql'));
 * ```
 */
export function decryptStream(options: BackupDecryptOptions): Duplex {
  return Duplex.from((source: AsyncIterable<Uint8Array>) => decryptIterable(source, options));
}

/**
 * A web `ReadableStream` of bytes: the global one (a `fetch` body, `Blob.stream()`; the DOM's
 * type where an application compiles with the DOM library) or `node:stream/web`'s. Both are the
 * same object at run time in Node; their TypeScript types differ, so the web-stream functions
 * take either and return the global type, which `fetch` accepts as a body.
 */
export type WebByteStream = ReadableStream<Uint8Array> | NodeReadableStream<Uint8Array>;

/**
 * Encrypts a web `ReadableStream` (a `fetch` body, `Blob.stream()`) into one of the backup.
 *
 * @example
 * ```ts
 * const body = encryptWebStream(file.stream(), { recipients });
 * await fetch(uploadUrl, { method: 'PUT', body, duplex: 'half' });
 * ```
 */
export function encryptWebStream(
  input: WebByteStream,
  options: BackupEncryptOptions,
): ReadableStream<Uint8Array> {
  return NodeReadableStream.from(encryptIterable(input, options));
}

/**
 * Decrypts a web `ReadableStream` holding a backup; the result errors on any tampering.
 *
 * @example
 * ```ts
 * const plain = decryptWebStream((await fetch(url)).body!, { identities });
 * ```
 */
export function decryptWebStream(
  input: WebByteStream,
  options: BackupDecryptOptions,
): ReadableStream<Uint8Array> {
  return NodeReadableStream.from(decryptIterable(input, options));
}

/** Parses the header of a backup from `source`; reads no further than the header. */
export async function readHeader(source: BackupInput): Promise<ParsedHeader> {
  const reader = new ByteReader(bytesOf(source));
  try {
    return await parseHeader((n) => reader.read(n));
  } finally {
    await reader.close();
  }
}
