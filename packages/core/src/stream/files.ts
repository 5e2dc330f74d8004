import { createReadStream } from 'node:fs';
import { writeStreamAtomic } from '../lib/atomic-file.js';
import { ByteReader } from './byte-reader.js';
import {
  type BackupDecryptOptions,
  type BackupEncryptOptions,
  decryptIterable,
  encryptIterable,
  readHeader,
} from './crypt.js';
import { describeStanza, type StanzaDescription } from './describe.js';
import { CHUNK_SIZE, FORMAT_VERSION, parseHeader } from './format.js';
import { rewrapHeader, unlockHeader } from './header.js';
import type { BackupInput } from './input.js';
import type { BackupRecipient } from './recipient.js';

/** Backups and their plaintext are written readable by the owner only. */
const OUTPUT_MODE = 0o600;

/** Rekey passes pieces on to a writer that queues them, so each read gets its own buffer. */
const queuedBytesOf = (input: BackupInput) =>
  typeof input === 'string' ? createReadStream(input, { highWaterMark: 1 << 20 }) : input;

/**
 * Encrypts `input` (a path, or a byte stream such as standard input) into the file `output`, atomically: a temporary file beside `output`,
 * renamed over it only when everything was written; nothing is left behind on failure.
 *
 * @example
 * ```ts
 * await encryptFile('db.sql', 'db.sql.cbk', { recipients: [x25519Recipient(recipient)] });
 * ```
 */
export async function encryptFile(
  input: BackupInput,
  output: string,
  options: BackupEncryptOptions,
): Promise<void> {
  await writeStreamAtomic(output, encryptIterable(input, options), OUTPUT_MODE);
}

/**
 * Decrypts the backup `input` (a path or a byte stream) into the file `output` (mode 0600), atomically: the plaintext appears under
 * `output` only once every chunk authenticated; on any failure (wrong key, tampering,
 * truncation) nothing is left, not even a partial temporary file.
 *
 * @example
 * ```ts
 * await decryptFile('db.sql.cbk', 'db.sql', { identities: await readBackupIdentityFile('id.key') });
 * ```
 */
export async function decryptFile(
  input: BackupInput,
  output: string,
  options: BackupDecryptOptions,
): Promise<void> {
  await writeStreamAtomic(output, decryptIterable(input, options), OUTPUT_MODE);
}

/** What {@link verifyBackup} found: the plaintext size and chunk count of an authentic backup. */
export interface BackupVerification {
  readonly plaintextBytes: number;
  readonly chunks: number;
}

/**
 * Authenticates a whole backup (header and every chunk) without writing any plaintext, and
 * throws the typed error {@link decryptIterable} names when anything is wrong.
 *
 * @example
 * ```ts
 * const { plaintextBytes } = await verifyBackup(createReadStream('db.sql.cbk'), { identities });
 * ```
 */
export async function verifyBackup(
  source: BackupInput,
  options: BackupDecryptOptions,
): Promise<BackupVerification> {
  let plaintextBytes = 0;
  let chunks = 0;
  for await (const piece of decryptIterable(source, options)) {
    plaintextBytes += piece.length;
    chunks++;
  }
  return { plaintextBytes, chunks };
}

/**
 * {@link verifyBackup} of a file.
 *
 * @example
 * ```ts
 * await verifyFile('db.sql.cbk', { identities: [backupKey(key)] });
 * ```
 */
export function verifyFile(
  path: string,
  options: BackupDecryptOptions,
): Promise<BackupVerification> {
  return verifyBackup(path, options);
}

/** Options of {@link rekeyBackup}: a key that opens the file, and the recipients it is for next. */
export interface BackupRekeyOptions extends BackupDecryptOptions {
  readonly recipients: readonly BackupRecipient[];
}

/**
 * Rewraps the file key of a backup for new recipients, replacing the old ones, without
 * re-encrypting the data: the new header is followed by the chunks as they were. The old header
 * is authenticated first; the chunks are not read for authenticity (run {@link verifyBackup}
 * on the result for that).
 *
 * @example
 * ```ts
 * await writeStreamAtomic('db.sql.cbk', rekeyBackup(createReadStream('db.sql.cbk'), { identities, recipients }), 0o600);
 * ```
 */
export async function* rekeyBackup(
  source: AsyncIterable<Uint8Array>,
  options: BackupRekeyOptions,
): AsyncGenerator<Buffer> {
  const reader = new ByteReader(source);
  try {
    const header = await parseHeader((n) => reader.read(n));
    const fileKey = await unlockHeader(header, options.identities);
    try {
      yield await rewrapHeader(fileKey, header, options.recipients);
    } finally {
      fileKey.fill(0);
    }
    yield* reader.rest();
  } finally {
    await reader.close();
  }
}

/**
 * {@link rekeyBackup} from file to file, atomically (`input` and `output` may be the same path).
 *
 * @example
 * ```ts
 * await rekeyFile('db.sql.cbk', 'db.sql.cbk', { identities: [oldKey], recipients: [newKey] });
 * ```
 */
export async function rekeyFile(
  input: BackupInput,
  output: string,
  options: BackupRekeyOptions,
): Promise<void> {
  await writeStreamAtomic(output, rekeyBackup(queuedBytesOf(input), options), OUTPUT_MODE);
}

/** What {@link inspectBackup} reads from a header, with no key: which keys can open it. */
export interface BackupInfo {
  readonly formatVersion: number;
  readonly chunkSize: number;
  readonly headerLength: number;
  readonly recipients: readonly StanzaDescription[];
}

/**
 * Reads a backup's header and says which keys open it, without decrypting anything. The
 * header is not authenticated (that needs a key): use it to choose the key, not to trust.
 *
 * @example
 * ```ts
 * const { recipients } = await inspectBackup(createReadStream('db.sql.cbk'));
 * recipients.map((r) => r.summary); // ['X25519 recipient custos-backup-recipient-…']
 * ```
 */
export async function inspectBackup(source: BackupInput): Promise<BackupInfo> {
  const header = await readHeader(source);
  return {
    formatVersion: FORMAT_VERSION,
    chunkSize: CHUNK_SIZE,
    headerLength: header.length,
    recipients: header.stanzas.map(describeStanza),
  };
}

/**
 * {@link inspectBackup} of a file.
 *
 * @example
 * ```ts
 * const info = await inspectFile('db.sql.cbk');
 * ```
 */
export async function inspectFile(path: string): Promise<BackupInfo> {
  return inspectBackup(path);
}
