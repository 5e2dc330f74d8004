import { CustosError } from '../errors/index.js';

/** Limits of a {@link BoundedCache}. */
export interface BoundedCacheOptions {
  /** Entries kept; the least recently used goes first. */
  readonly maxEntries: number;
  /** An entry is dropped this long after it was stored, however often it is used. */
  readonly ttlSeconds: number;
  /** Clock in milliseconds; default `Date.now`. */
  readonly now?: () => number;
}

interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
}

/**
 * A cache bounded in size (LRU) and time (TTL from insertion), with single-flight loading:
 * concurrent misses for one key share one load, so a burst of requests for a new tenant makes
 * one KMS call, not hundreds. A failed load is not cached.
 */
export class BoundedCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #loading = new Map<string, Promise<V>>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: BoundedCacheOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new CustosError('ERR_INVALID_ARGUMENT', 'cache maxEntries must be a positive integer');
    }
    if (!(options.ttlSeconds > 0)) {
      throw new CustosError('ERR_INVALID_ARGUMENT', 'cache ttlSeconds must be positive');
    }
    this.#maxEntries = options.maxEntries;
    this.#ttlMs = options.ttlSeconds * 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Entries held now (expired ones included until touched). */
  get size(): number {
    return this.#entries.size;
  }

  /** The live value for `key`, or undefined. Marks it recently used. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= this.#now()) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value`, evicting the least recently used entry when full. */
  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: this.#now() + this.#ttlMs });
    while (this.#entries.size > this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value as string);
    }
  }

  /** Drops `key`. */
  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** The cached value, or the result of `load` (shared by concurrent callers), then cached. */
  async getOrLoad(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const pending = this.#loading.get(key);
    if (pending !== undefined) return pending;
    const promise = load().then(
      (value) => {
        this.#loading.delete(key);
        this.set(key, value);
        return value;
      },
      (err: unknown) => {
        this.#loading.delete(key);
        throw err;
      },
    );
    this.#loading.set(key, promise);
    return promise;
  }
}
