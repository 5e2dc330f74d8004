import { hkdfSync, type KeyObject } from 'node:crypto';
import { CustosError } from '../errors/index.js';
import { type BytesLike, toBuffer } from '../lib/bytes.js';

/** Options for {@link hkdfSha256}. */
export interface HkdfOptions {
  /** Optional salt (RFC 5869 §3.1); empty when omitted. */
  readonly salt?: BytesLike;
  /** Output length in bytes, 1..8160. Default 32. */
  readonly length?: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * HKDF-SHA256 (RFC 5869): derives a key from high-entropy input key material. Use it for keys
 * derived from other keys; use a password hash (Argon2id, scrypt) for passwords.
 *
 * @example
 * ```ts
 * const tenantKey = hkdfSha256(rootKey, 'custos/tenant/42', { length: 32 });
 * ```
 */
export function hkdfSha256(
  ikm: BytesLike | KeyObject,
  info: BytesLike,
  options: HkdfOptions = {},
): Buffer {
  const length = options.length ?? 32;
  if (!Number.isInteger(length) || length < 1 || length > 255 * 32) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'HKDF output length must be 1..8160 bytes');
  }
  const key = typeof ikm === 'string' || ikm instanceof Uint8Array ? toBuffer(ikm) : ikm;
  const salt = options.salt === undefined ? EMPTY : toBuffer(options.salt);
  return Buffer.from(hkdfSync('sha256', key, salt, toBuffer(info), length));
}

/**
 * A bounded cache of HKDF-derived keys, held per source key (a `WeakMap`, so a dropped source
 * key drops its derived keys). Derivation costs ~10 µs; a hit costs a map lookup. Entries are
 * evicted least-recently-used. `build` turns the derived bytes into what is cached (for
 * example a prepared cipher key), so the preparation is cached too.
 *
 * @example
 * ```ts
 * const cache = new DerivedKeyCache<Buffer>(1024);
 * const k = cache.derive(rootKeyObject, 'custos/column/patients.ssn', {}, (bytes) => bytes);
 * ```
 */
export class DerivedKeyCache<T> {
  readonly #maxEntriesPerKey: number;
  readonly #bySource = new WeakMap<object, Map<string, T>>();

  /** Told of each entry dropped, by the bound or by {@link forget} (to wipe what it holds). */
  readonly #onEvict: ((value: T) => void) | undefined;

  constructor(maxEntriesPerKey = 256, onEvict?: (value: T) => void) {
    this.#maxEntriesPerKey = maxEntriesPerKey;
    this.#onEvict = onEvict;
  }

  /** Returns `build(HKDF-SHA256(source, info, salt, length))`, computed once while cached. */
  derive(source: KeyObject, info: BytesLike, options: HkdfOptions, build: (bytes: Buffer) => T): T {
    let entries = this.#bySource.get(source);
    if (entries === undefined) {
      entries = new Map();
      this.#bySource.set(source, entries);
    }
    const infoKey = typeof info === 'string' ? `s${info}` : `b${toBuffer(info).toString('hex')}`;
    const saltKey = options.salt === undefined ? '' : toBuffer(options.salt).toString('hex');
    const cacheKey = `${options.length ?? 32}:${saltKey}:${infoKey}`;
    const hit = entries.get(cacheKey);
    if (hit !== undefined) {
      entries.delete(cacheKey);
      entries.set(cacheKey, hit);
      return hit;
    }
    const value = build(hkdfSha256(source, info, options));
    entries.set(cacheKey, value);
    if (entries.size > this.#maxEntriesPerKey) {
      const oldest = entries.keys().next().value as string;
      this.#onEvict?.(entries.get(oldest) as T);
      entries.delete(oldest);
    }
    return value;
  }

  /**
   * Drops every key derived from `source` (a destroyed key version), each told to the eviction
   * callback first.
   *
   * @example
   * ```ts
   * cache.forget(destroyedKeyObject);
   * ```
   */
  forget(source: KeyObject): void {
    const entries = this.#bySource.get(source);
    if (entries === undefined) return;
    if (this.#onEvict !== undefined) for (const value of entries.values()) this.#onEvict(value);
    this.#bySource.delete(source);
  }
}
