import { kmsInvalidCiphertext, kmsValidation } from './kms-error.js';

/**
 * The KMS API's ciphertext blob, format 1 (docs/aws.md):
 *
 *     0x01 | n (1 byte, 1–128) | key name (n ASCII bytes) | key version (uint32 BE) |
 *     nonce (12) | ciphertext | tag (16)
 *
 * The key name and version say which transit key version decrypts it, so Decrypt needs no
 * `KeyId`. The AEAD (the key's own: AES-256-GCM or ChaCha20-Poly1305) authenticates, as
 * associated data, the header (everything before the nonce) followed by the canonical
 * encryption context: a blob relabelled to another key or version, or presented with another
 * context, fails authentication.
 */
export const BLOB_FORMAT = 1;
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** The smallest sealed part: a nonce and a tag around an empty ciphertext. */
const MIN_SEALED = 12 + 16;

/** A parsed blob: the key and version that made it, its header, and the sealed bytes. */
export interface KmsBlob {
  readonly keyName: string;
  readonly version: number;
  readonly header: Buffer;
  /** nonce ‖ ciphertext ‖ tag. */
  readonly sealed: Buffer;
}

/**
 * The header of a blob made with `version` of key `keyName`.
 *
 * @example
 * ```ts
 * const header = blobHeader('orders', 3);
 * ```
 */
export function blobHeader(keyName: string, version: number): Buffer {
  const name = Buffer.from(keyName, 'ascii');
  const header = Buffer.alloc(2 + name.length + 4);
  header[0] = BLOB_FORMAT;
  header[1] = name.length;
  name.copy(header, 2);
  header.writeUInt32BE(version, 2 + name.length);
  return header;
}

/**
 * Reads a blob's header without any key: which key and version decrypt it. Anything that is
 * not a format-1 blob of a possible key name is InvalidCiphertextException.
 *
 * @example
 * ```ts
 * const { keyName, version } = parseBlob(Buffer.from(body.CiphertextBlob, 'base64'));
 * ```
 */
export function parseBlob(blob: Buffer): KmsBlob {
  const invalid = () => kmsInvalidCiphertext('the ciphertext blob is not one this server made');
  if (blob.length < 2 || blob[0] !== BLOB_FORMAT) throw invalid();
  const n = blob[1] as number;
  if (n === 0 || n > 128 || blob.length < 2 + n + 4 + MIN_SEALED) throw invalid();
  const keyName = blob.subarray(2, 2 + n).toString('latin1');
  if (!KEY_NAME.test(keyName)) throw invalid();
  const version = blob.readUInt32BE(2 + n);
  if (version === 0) throw invalid();
  return {
    keyName,
    version,
    header: blob.subarray(0, 2 + n + 4),
    sealed: blob.subarray(2 + n + 4),
  };
}

/**
 * An `EncryptionContext` checked (an object of string values, keys not empty) and encoded
 * canonically: pairs sorted by the UTF-8 bytes of their keys, each key and value as a 2-byte
 * length and UTF-8 bytes, after a 2-byte count. Equal contexts encode equally whatever the
 * order their members were sent in; an absent context encodes as an empty one (as in AWS).
 *
 * @example
 * ```ts
 * canonicalContext({ b: '2', a: '1' }).equals(canonicalContext({ a: '1', b: '2' })); // true
 * ```
 */
export function canonicalContext(value: unknown, field = 'EncryptionContext'): Buffer {
  if (value === undefined || value === null) return Buffer.from([0, 0]);
  if (typeof value !== 'object' || Array.isArray(value))
    throw kmsValidation(`${field} must be an object of strings`);
  const pairs = Object.entries(value as Record<string, unknown>).map(([k, v]) => {
    if (typeof v !== 'string') throw kmsValidation(`${field} values must be strings`);
    const key = Buffer.from(k, 'utf8');
    const text = Buffer.from(v, 'utf8');
    if (key.length === 0 || key.length > 0xffff || text.length > 0xffff)
      throw kmsValidation(`${field} keys must be 1 to 65535 bytes and values at most 65535`);
    return [key, text] as const;
  });
  if (pairs.length > 0xffff) throw kmsValidation(`${field} has too many members`);
  pairs.sort(([a], [b]) => Buffer.compare(a, b));
  const parts: Buffer[] = [u16(pairs.length)];
  for (const [key, text] of pairs) parts.push(u16(key.length), key, u16(text.length), text);
  return Buffer.concat(parts);
}

const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};

/** The associated data a blob is sealed with: its header, then the canonical context. */
export const blobAad = (header: Buffer, context: Buffer) => Buffer.concat([header, context]);
