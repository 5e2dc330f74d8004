import type { Secret } from '../redaction/secret.js';

/** One cached answer for one name. See `NOTES.md` for the states and invariants. */
export interface CacheEntry {
  /** The value, or `undefined` when no provider holds the name (misses are cached too). */
  readonly value: string | undefined;
  /** When the value was last confirmed by a provider (`Date.now()`). */
  fetchedAt: number;
  /**
   * True until the refresh-ahead point. A timer clears it, so the hot path reads a flag
   * instead of the clock (`Date.now()` costs several times a Map lookup).
   */
  fresh: boolean;
  timer?: NodeJS.Timeout;
  /** After a failed refresh, no new attempt before this time (ms). */
  retryAt: number;
  /** Set by the client on first use: the `Secret` handed out and a resolved promise of it. */
  secret?: Secret<string>;
  resolved?: Promise<Secret<string>>;
  /** Rules this value already passed, so the hot path validates each value once. */
  checked?: WeakSet<object>;
}

/** Options of {@link SecretCache}. */
export interface SecretCacheOptions {
  readonly ttlMs: number;
  /** How long past the TTL a failing provider may be covered by the last good value. */
  readonly staleIfErrorMs: number;
  /** Asks the providers. Throws when they cannot be asked. */
  readonly fetch: (name: string) => Promise<string | undefined>;
  /** A refresh found a different value (or the name appeared or disappeared). */
  readonly onChange: (name: string, entry: CacheEntry) => void;
  /** A failing provider was covered by the last good value. */
  readonly onStale: (name: string, error: unknown) => void;
  /** Each `get`: answered from the cache (`true`) or by asking the providers (`false`). */
  readonly onLookup?: (hit: boolean) => void;
}

/** Refresh-ahead starts at this fraction of the TTL: callers keep getting the cached value. */
export const REFRESH_AHEAD_FRACTION = 0.8;
/** Pause between attempts while a provider fails and a stale value is served. */
const ERROR_RETRY_MS = 5_000;

/**
 * The cache behind `createSecrets`: TTL, single-flight (concurrent misses of one name share one
 * provider call), refresh-ahead in the background, stale-if-error, and change detection.
 */
export class SecretCache {
  readonly #entries = new Map<string, CacheEntry>();
  readonly #inflight = new Map<string, Promise<CacheEntry>>();
  readonly #options: SecretCacheOptions;
  readonly #refreshAfterMs: number;

  constructor(options: SecretCacheOptions) {
    this.#options = options;
    this.#refreshAfterMs = options.ttlMs * REFRESH_AHEAD_FRACTION;
  }

  /** The entry if it is fresh (no refresh due), else `undefined`. The hot path: no clock, no allocation. */
  peek(name: string): CacheEntry | undefined {
    const entry = this.#entries.get(name);
    return entry?.fresh === true ? entry : undefined;
  }

  /** Whether anything is cached for `name`. */
  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /**
   * The entry for `name`: cached while fresh; cached while a background refresh runs near the
   * end of the TTL; fetched once expired, the last good value standing in if the provider fails
   * (for at most `staleIfErrorMs` past the TTL).
   */
  async get(name: string): Promise<CacheEntry> {
    const lookup = this.#options.onLookup;
    const entry = this.#entries.get(name);
    if (entry === undefined) {
      lookup?.(false);
      return this.refresh(name);
    }
    if (entry.fresh) {
      lookup?.(true);
      return entry;
    }
    const now = Date.now();
    const age = now - entry.fetchedAt;
    if (age < this.#options.ttlMs) {
      if (now >= entry.retryAt) this.refresh(name).catch((err) => this.#stale(name, entry, err));
      lookup?.(true);
      return entry;
    }
    const coverable = age < this.#options.ttlMs + this.#options.staleIfErrorMs;
    if (coverable && now < entry.retryAt) {
      lookup?.(true);
      return entry;
    }
    lookup?.(false);
    try {
      return await this.refresh(name);
    } catch (err) {
      if (!coverable) throw err;
      this.#stale(name, entry, err);
      return entry;
    }
  }

  /** Asks the providers now, sharing the call with every concurrent request for `name`. */
  refresh(name: string): Promise<CacheEntry> {
    let pending = this.#inflight.get(name);
    if (pending === undefined) {
      pending = this.#load(name).finally(() => this.#inflight.delete(name));
      this.#inflight.set(name, pending);
    }
    return pending;
  }

  /**
   * Asks the providers again because the value is known to have changed (a watch event). A
   * call already in flight may have read the old value, so a new one follows it.
   */
  reload(name: string): Promise<CacheEntry> {
    const pending = this.#inflight.get(name);
    if (pending === undefined) return this.refresh(name);
    return pending.then(
      () => this.refresh(name),
      () => this.refresh(name),
    );
  }

  async #load(name: string): Promise<CacheEntry> {
    const value = await this.#options.fetch(name);
    const now = Date.now();
    const previous = this.#entries.get(name);
    if (previous !== undefined && previous.value === value) {
      // Unchanged: keep the entry (its Secret and checked rules stay valid).
      previous.fetchedAt = now;
      previous.retryAt = now;
      this.#arm(previous);
      return previous;
    }
    const entry: CacheEntry = { value, fetchedAt: now, retryAt: now, fresh: false };
    this.#arm(entry);
    if (previous !== undefined) clearTimeout(previous.timer);
    this.#entries.set(name, entry);
    if (previous !== undefined) this.#options.onChange(name, entry);
    return entry;
  }

  /** Stops the freshness timers (they do not keep the process alive either way). */
  close(): void {
    for (const entry of this.#entries.values()) clearTimeout(entry.timer);
  }

  #arm(entry: CacheEntry): void {
    clearTimeout(entry.timer);
    entry.fresh = this.#refreshAfterMs > 0;
    if (!entry.fresh) return;
    entry.timer = setTimeout(() => {
      entry.fresh = false;
    }, this.#refreshAfterMs);
    entry.timer.unref();
  }

  #stale(name: string, entry: CacheEntry, error: unknown): void {
    entry.retryAt = Date.now() + Math.min(ERROR_RETRY_MS, this.#options.ttlMs);
    this.#options.onStale(name, error);
  }
}
