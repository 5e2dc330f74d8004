import type { KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Algorithm, Options as Argon2Options } from '@node-rs/argon2';
import { hmacSha256 } from '../crypto/index.js';
import { CustosError } from '../errors/index.js';
import type { BlindIndexOptions, FieldValue, SlowBlindIndexOptions } from './types.js';
import { encodeFieldValue } from './value-codec.js';

/**
 * Default bits of a blind index kept: 64 (11 base64url characters).
 *
 * @example
 * ```ts
 * await db.schema.addColumn('email_idx', `varchar(${Math.ceil(DEFAULT_BLIND_INDEX_BITS / 6)})`);
 * ```
 */
export const DEFAULT_BLIND_INDEX_BITS = 64;

// `Algorithm.Argon2id`; the enum is an ambient const enum, which isolated modules cannot read.
const ARGON2ID = 2 as Algorithm;
// Argon2 needs a salt; the per-column secret key already makes every column's function unique,
// so a fixed, public salt is enough.
const ARGON2_SALT = Buffer.from('custos/blind-idx', 'utf8');
const INDEX_FORMAT = /^b([1-9][0-9]{0,9})\.([A-Za-z0-9_-]+)$/;

/**
 * The name of the keyring key blind indexes come from, unless the cipher names another: a key
 * used for nothing else, so rotating an encryption key never changes an index.
 *
 * @example
 * ```ts
 * keyring.createKey(DEFAULT_BLIND_INDEX_KEY_NAME); // once, next to the encryption key
 * ```
 */
export const DEFAULT_BLIND_INDEX_KEY_NAME = 'blind-index';

/**
 * Which key an index was computed under, written before the digest: `b<version>.` for a version
 * of the blind-index key, `v<version>.` for a legacy index derived from an encryption key (what
 * custos wrote before blind-index keys were their own).
 */
export type BlindIndexPrefix = 'b' | 'v';

/**
 * The message a blind index is computed over: the normalised value with its type tag, so the
 * number 42 and the string "42" get different indexes.
 */
export function blindIndexMessage(value: FieldValue, options: BlindIndexOptions): Buffer {
  const normalize = options.normalize;
  const normalized =
    typeof value === 'string' && normalize !== undefined && normalize !== false
      ? normalize === true
        ? value.normalize('NFKC').trim().toLowerCase()
        : normalize(value)
      : value;
  if (typeof normalized !== 'string' && typeof value === 'string') {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'the normalize function must return a string');
  }
  return encodeFieldValue(normalized);
}

/** Checks and returns the bit count. */
export function blindIndexBits(options: BlindIndexOptions): number {
  const bits = options.bits ?? DEFAULT_BLIND_INDEX_BITS;
  if (!Number.isInteger(bits) || bits < 1 || bits > 256) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'blind index bits must be an integer from 1 to 256',
    );
  }
  return bits;
}

/** HMAC-SHA256 of the message under the column's key, truncated and formatted. */
export function hmacBlindIndex(
  prefix: BlindIndexPrefix,
  key: KeyObject,
  keyVersion: number,
  message: Buffer,
  bits: number,
) {
  return formatBlindIndex(prefix, keyVersion, truncate(hmacSha256(key, message), bits));
}

/**
 * The Argon2 add-on, loaded on the first slow index: a process that never computes one (the
 * server, most applications) does not map the native library.
 */
const argon2 = (() => {
  let loaded: typeof import('@node-rs/argon2') | undefined;
  return () => {
    loaded ??= createRequire(import.meta.url)(
      '@node-rs/argon2',
    ) as typeof import('@node-rs/argon2');
    return loaded;
  };
})();

/** Argon2id of the message with the column's key as Argon2's secret (synchronous: blocks). */
export function argon2BlindIndexSync(
  prefix: BlindIndexPrefix,
  key: KeyObject,
  keyVersion: number,
  message: Buffer,
  bits: number,
  slow: true | SlowBlindIndexOptions,
): string {
  const digest = argon2().hashRawSync(message, argon2Options(key, slow));
  return formatBlindIndex(prefix, keyVersion, truncate(digest, bits));
}

/** Argon2id blind index on the libuv thread pool. */
export async function argon2BlindIndex(
  prefix: BlindIndexPrefix,
  key: KeyObject,
  keyVersion: number,
  message: Buffer,
  bits: number,
  slow: true | SlowBlindIndexOptions,
): Promise<string> {
  const digest = await argon2().hashRaw(message, argon2Options(key, slow));
  return formatBlindIndex(prefix, keyVersion, truncate(digest, bits));
}

/**
 * Reads the blind-index key version out of a stored index (`b<version>.…`), for backfills: rows
 * whose index is not at the primary version need recomputing. Returns undefined for anything
 * else, legacy indexes included (`v<version>.…`, derived from an encryption key), which need
 * recomputing too.
 *
 * @example
 * ```ts
 * blindIndexVersion('b2.q83Jd0aB1cE'); // 2
 * blindIndexVersion('v2.q83Jd0aB1cE'); // undefined: legacy, rewrite it
 * ```
 */
export function blindIndexVersion(index: string): number | undefined {
  const match = INDEX_FORMAT.exec(index);
  return match ? Number(match[1]) : undefined;
}

function argon2Options(key: KeyObject, slow: true | SlowBlindIndexOptions): Argon2Options {
  const params = slow === true ? {} : slow;
  return {
    algorithm: ARGON2ID,
    memoryCost: params.memoryKiB ?? 19456,
    timeCost: params.iterations ?? 2,
    parallelism: params.parallelism ?? 1,
    outputLen: 32,
    salt: ARGON2_SALT,
    secret: key.export(),
  };
}

function truncate(digest: Buffer, bits: number): Buffer {
  const bytes = Math.ceil(bits / 8);
  const spare = bytes * 8 - bits;
  if (spare === 0) return digest.subarray(0, bytes);
  // Clear the bits beyond `bits` so equal prefixes give equal strings.
  const out = Buffer.from(digest.subarray(0, bytes));
  out[bytes - 1] = (out[bytes - 1] as number) & (0xff << spare);
  return out;
}

function formatBlindIndex(prefix: BlindIndexPrefix, keyVersion: number, bytes: Buffer): string {
  return `${prefix}${keyVersion}.${bytes.toString('base64url')}`;
}
