import { crc32 } from 'node:zlib';
import { generateSecret } from '../crypto/random.js';
import { CustosError } from '../errors/index.js';
import { Secret } from '../redaction/secret.js';
import { ApiKeyRejected } from './errors.js';

/**
 * Prefixes: lowercase words joined by `_` (`acme`, `acme_live`), at most 32 characters.
 *
 * @example
 * ```ts
 * API_KEY_PREFIX_PATTERN.test('acme_live'); // true
 * ```
 */
export const API_KEY_PREFIX_PATTERN = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
export const KEY_ID_LENGTH = 12;
export const RANDOM_LENGTH = 32;
export const CHECKSUM_LENGTH = 6;
/** Longest key accepted before parsing. */
export const MAX_API_KEY_LENGTH = 32 + 1 + KEY_ID_LENGTH + 1 + RANDOM_LENGTH + CHECKSUM_LENGTH;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const TAIL = new RegExp(`^[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);
const KEY_ID = new RegExp(`^[0-9A-Za-z]{${KEY_ID_LENGTH}}$`);

/**
 * Matches a candidate custos API key (prefix, key id, random part and checksum), for scanners;
 * confirm each match with {@link hasValidApiKeyChecksum}. To find all of them in a text use
 * `text.matchAll(new RegExp(API_KEY_PATTERN, 'g'))`.
 *
 * @example
 * ```ts
 * const candidates = [...text.matchAll(new RegExp(API_KEY_PATTERN, 'g'))].map((m) => m[0]);
 * ```
 */
export const API_KEY_PATTERN = new RegExp(
  `\\b[a-z][a-z0-9]*(?:_[a-z0-9]+)*_[0-9A-Za-z]{${KEY_ID_LENGTH}}_[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}\\b`,
);

/** The parts of an API key. */
export interface ParsedApiKey {
  readonly prefix: string;
  readonly keyId: string;
}

/**
 * The checksum of a key body (`<prefix>_<key id>_<random>`): CRC32 of its UTF-8 bytes in base62,
 * 6 characters, zero-padded. A checksum, not a MAC: it lets a scanner or a client tell a real
 * key from a look-alike or a typo without asking the server.
 *
 * @example
 * ```ts
 * apiKeyChecksum('acme_0123456789ab_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef'); // "2jO3Q4"
 * ```
 */
export function apiKeyChecksum(body: string): string {
  let value = crc32(Buffer.from(body, 'utf8')) >>> 0;
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/**
 * A new key of the custos shape, `<prefix>_<12-character key id>_<32 random characters>
 * <6-character checksum>`, not stored anywhere: for a single static key such as an
 * `ADMIN_API_KEY` (keys for users come from `createApiKey`, which also stores the HMAC).
 *
 * @example
 * ```ts
 * const { key, keyId } = generateApiKey('acme_admin');
 * ```
 */
export function generateApiKey(prefix: string): { key: Secret<string>; keyId: string } {
  checkPrefix(prefix);
  const keyId = generateSecret({ encoding: 'alphanumeric', length: KEY_ID_LENGTH }).secret.reveal();
  const random = generateSecret({ encoding: 'alphanumeric', length: RANDOM_LENGTH }).secret;
  const body = `${prefix}_${keyId}_${random.reveal()}`;
  return { key: new Secret(body + apiKeyChecksum(body)), keyId };
}

/**
 * Splits a key into prefix and key id after checking its form and checksum; throws
 * `ERR_API_KEY_MALFORMED` or `ERR_API_KEY_CHECKSUM`.
 *
 * @example
 * ```ts
 * parseApiKey('acme_4fG8s0aQ2LmZ_…').keyId; // "4fG8s0aQ2LmZ"
 * ```
 */
export function parseApiKey(key: string): ParsedApiKey {
  if (typeof key !== 'string' || key.length > MAX_API_KEY_LENGTH) {
    throw malformed();
  }
  const parts = key.split('_');
  // `split` returns at least one element, so there is always a tail.
  const tail = parts.pop() as string;
  const keyId = parts.pop() ?? '';
  const prefix = parts.join('_');
  // No separate prefix length check: with the tail, the key id and both separators fixed in
  // length, the bound on the whole key above leaves at most 32 characters for the prefix.
  if (!TAIL.test(tail) || !KEY_ID.test(keyId) || !API_KEY_PREFIX_PATTERN.test(prefix)) {
    throw malformed();
  }
  const body = key.slice(0, key.length - CHECKSUM_LENGTH);
  if (apiKeyChecksum(body) !== key.slice(-CHECKSUM_LENGTH)) {
    throw new ApiKeyRejected(
      'ERR_API_KEY_CHECKSUM',
      'the API key checksum does not match (mistyped, truncated, or not a real key)',
    );
  }
  return { prefix, keyId };
}

/**
 * Whether `candidate` is a well-formed custos API key with a matching checksum: what a secret
 * scanner uses to report real keys with near-zero false positives. No store is consulted.
 *
 * @example
 * ```ts
 * for (const [m] of text.matchAll(new RegExp(API_KEY_PATTERN, 'g'))) if (hasValidApiKeyChecksum(m)) report(m);
 * ```
 */
export function hasValidApiKeyChecksum(candidate: string): boolean {
  try {
    parseApiKey(candidate);
    return true;
  } catch {
    return false;
  }
}

function malformed(): ApiKeyRejected {
  return new ApiKeyRejected(
    'ERR_API_KEY_MALFORMED',
    'the API key is not of the form <prefix>_<key id>_<random><checksum>',
  );
}

/** Refuses a prefix that is not 1-32 lowercase words joined by `_`. */
export function checkPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || prefix.length > 32 || !API_KEY_PREFIX_PATTERN.test(prefix)) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'a prefix is 1-32 lowercase letters and digits, words joined by "_" (e.g. acme_live)',
    );
  }
}
