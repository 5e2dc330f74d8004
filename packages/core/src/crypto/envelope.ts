import { MalformedCiphertext } from '../errors/index.js';
import { type AeadAlgorithm, aeadParameters, algorithmById } from './aead.js';

/**
 * Current envelope format version (the first byte of every binary envelope; see `FORMAT.md`).
 *
 * @example
 * ```ts
 * const current = parseEnvelope(stored).formatVersion === ENVELOPE_FORMAT_VERSION;
 * ```
 */
export const ENVELOPE_FORMAT_VERSION = 1;

/**
 * Bytes before the nonce: format version, algorithm, 8-byte key id, 4-byte key version.
 *
 * @example
 * ```ts
 * const header = envelope.subarray(0, ENVELOPE_HEADER_LENGTH);
 * ```
 */
export const ENVELOPE_HEADER_LENGTH = 14;

/**
 * Prefix of the text form; the rest is the binary envelope in unpadded base64url.
 *
 * @example
 * ```ts
 * const encrypted = await db.count("WHERE ssn LIKE 'custos:%'"); // ENVELOPE_TEXT_PREFIX
 * ```
 */
export const ENVELOPE_TEXT_PREFIX = 'custos:';

/**
 * Length of a key id in bytes (shown as 16 hex characters).
 *
 * @example
 * ```ts
 * const keyId = Buffer.alloc(KEY_ID_LENGTH);
 * ```
 */
export const KEY_ID_LENGTH = 8;

/** What an envelope says about itself, readable without any key. */
export interface EnvelopeHeader {
  readonly formatVersion: number;
  readonly algorithm: AeadAlgorithm;
  /** 16 lowercase hex characters. */
  readonly keyId: string;
  readonly keyVersion: number;
}

/** A parsed binary envelope: views into the input, nothing copied. */
export interface ParsedEnvelope extends EnvelopeHeader {
  readonly header: Buffer;
  readonly nonce: Buffer;
  /** Ciphertext followed by the 16-byte tag. */
  readonly sealed: Buffer;
}

/**
 * Builds the 14-byte header for one key version. It is also the first part of the associated
 * data, so every header byte is authenticated.
 */
export function buildEnvelopeHeader(
  algorithm: AeadAlgorithm,
  keyId: Uint8Array,
  keyVersion: number,
): Buffer {
  const header = Buffer.alloc(ENVELOPE_HEADER_LENGTH);
  header[0] = ENVELOPE_FORMAT_VERSION;
  header[1] = aeadParameters[algorithm].id;
  header.set(keyId, 2);
  header.writeUInt32BE(keyVersion, 10);
  return header;
}

/**
 * Parses a binary or text envelope without decrypting it. Throws {@link MalformedCiphertext}
 * when the structure is wrong; authenticity is checked only by decryption.
 *
 * @example
 * ```ts
 * const { keyId, keyVersion } = parseEnvelope(row.ssn);
 * ```
 */
export function parseEnvelope(input: Uint8Array | string): ParsedEnvelope {
  const { bytes, algorithm, keyVersion, nonceEnd } = readEnvelope(input);
  return {
    formatVersion: ENVELOPE_FORMAT_VERSION,
    algorithm,
    keyId: bytes.toString('hex', 2, 10),
    keyVersion,
    header: bytes.subarray(0, ENVELOPE_HEADER_LENGTH),
    nonce: bytes.subarray(ENVELOPE_HEADER_LENGTH, nonceEnd),
    sealed: bytes.subarray(nonceEnd),
  };
}

/** Where the parts of a structurally valid envelope lie: no views made, no key id string. */
export interface EnvelopeLayout {
  /** The whole binary envelope. */
  readonly bytes: Buffer;
  readonly algorithm: AeadAlgorithm;
  readonly keyVersion: number;
  /** Offset of the ciphertext: the nonce is `bytes[ENVELOPE_HEADER_LENGTH, nonceEnd)`. */
  readonly nonceEnd: number;
}

/**
 * The checks of {@link parseEnvelope} without building its views, for the decryption hot
 * path. Throws {@link MalformedCiphertext}.
 */
export function readEnvelope(input: Uint8Array | string): EnvelopeLayout {
  const bytes = typeof input === 'string' ? decodeText(input) : toBufferView(input);
  if (bytes.length < ENVELOPE_HEADER_LENGTH) {
    throw new MalformedCiphertext('ciphertext is too short to hold an envelope header');
  }
  if (bytes[0] !== ENVELOPE_FORMAT_VERSION) {
    throw new MalformedCiphertext(`unsupported envelope format version ${bytes[0]}`);
  }
  const algorithm = algorithmById(bytes[1] as number);
  if (algorithm === undefined) {
    throw new MalformedCiphertext(`unknown envelope algorithm id ${bytes[1]}`);
  }
  const keyVersion = bytes.readUInt32BE(10);
  if (keyVersion === 0) throw new MalformedCiphertext('envelope key version 0 is invalid');
  const nonceEnd = ENVELOPE_HEADER_LENGTH + aeadParameters[algorithm].nonceLength;
  if (bytes.length < nonceEnd + 16) {
    throw new MalformedCiphertext('ciphertext is truncated: shorter than header, nonce and tag');
  }
  return { bytes, algorithm, keyVersion, nonceEnd };
}

/**
 * Whether `value` looks like a text envelope (prefix only; see {@link parseEnvelope}).
 *
 * @example
 * ```ts
 * const plain = isTextEnvelope(value) ? keyring.decrypt(value, { aad }).toString() : value;
 * ```
 */
export function isTextEnvelope(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(ENVELOPE_TEXT_PREFIX);
}

/**
 * Encodes a binary envelope in its text form (`custos:` + unpadded base64url).
 *
 * @example
 * ```ts
 * const text = envelopeToText(keyring.encrypt('fields', 'secret')); // "custos:AQ…"
 * ```
 */
export function envelopeToText(envelope: Uint8Array): string {
  return ENVELOPE_TEXT_PREFIX + toBufferView(envelope).toString('base64url');
}

function decodeText(text: string): Buffer {
  if (!text.startsWith(ENVELOPE_TEXT_PREFIX)) {
    throw new MalformedCiphertext(`text ciphertext must start with "${ENVELOPE_TEXT_PREFIX}"`);
  }
  const body = text.slice(ENVELOPE_TEXT_PREFIX.length);
  const remainder = body.length % 4;
  // Buffer's decoder stops at (or skips) a character outside the alphabet, so any such
  // character makes the output shorter than the length implies; it also reads the standard
  // alphabet's `+` and `/`, which are refused so one ciphertext has one text form. A length of
  // 1 mod 4 cannot come from base64url (Buffer would silently drop the last character).
  const bytes = Buffer.from(body, 'base64url');
  if (
    remainder === 1 ||
    bytes.length !== (body.length * 3) >> 2 ||
    body.includes('+') ||
    body.includes('/')
  ) {
    throw new MalformedCiphertext('text ciphertext is not valid base64url');
  }
  // A final character with unused low bits set decodes to the same bytes as the canonical one;
  // refuse it for the same reason.
  const unusedBits = remainder === 2 ? 4 : remainder === 3 ? 2 : 0;
  if (unusedBits > 0) {
    const lastValue = BASE64URL_ALPHABET.indexOf(body.charAt(body.length - 1));
    if ((lastValue & ((1 << unusedBits) - 1)) !== 0) {
      throw new MalformedCiphertext('text ciphertext is not canonical base64url');
    }
  }
  return bytes;
}

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function toBufferView(input: Uint8Array): Buffer {
  return Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.length);
}
