import { type Keyring, parseEnvelope } from '@custos/core/crypto';
import { isCustosError } from '@custos/core/errors';
import { isServerError, ServerError } from '../errors.js';
import type { ChangeFeed } from '../storage/change-feed.js';
import type { EntryStore, EntryWriter, StoredEntry } from '../storage/entry-store.js';
import { createFeedCache } from '../storage/feed-cache.js';

/** A decrypted entry and the revision to pass back for a conditional update. */
export interface BarrierEntry<T> {
  readonly data: T;
  readonly revision: number;
}

/** Barrier operations, the same inside and outside a transaction. */
export interface BarrierWriter {
  read<T>(path: string): Promise<BarrierEntry<T> | undefined>;
  /**
   * Reads `path` and, inside a transaction, keeps other writers from updating or deleting it
   * until the transaction ends (see `EntryWriter.getLocked`).
   */
  readLocked<T>(path: string): Promise<BarrierEntry<T> | undefined>;
  /** The entry's revision, without decrypting it (to validate a cache). */
  revision(path: string): Promise<number | undefined>;
  /** Paths under `prefix` (full paths, sorted). Paths are not secret; values are. */
  listPaths(prefix: string): Promise<string[]>;
  /** Creates `path`; answers its revision. */
  create(path: string, data: unknown): Promise<number>;
  /** Replaces `path` at `revision`; answers the new revision. */
  replace(path: string, data: unknown, revision: number): Promise<number>;
  write(path: string, data: unknown): Promise<void>;
  remove(path: string): Promise<void>;
}

/** The encrypted view of storage that every component above the seal uses. */
export interface Barrier extends BarrierWriter {
  transaction<T>(work: (tx: BarrierWriter) => Promise<T>): Promise<T>;
  /** The storage's committed changes, which invalidate the caches above the barrier. */
  readonly changes: ChangeFeed;
  /**
   * A reader of the entries under `prefix` that keeps them sealed, as storage holds them
   * (ciphertext and revision, copied out of the driver's buffers), until the change feed
   * reports a write of them on any node, and decrypts on every read: a read it serves makes no
   * storage round trip, and no value is held in the clear between requests. Every reader of a
   * barrier shares one cache, bounded as {@link SealedCacheBounds} says. For entries read often
   * and written rarely (KV versions).
   */
  sealedCache(prefix: string): SealedReader;
}

/** Bounds of the barrier's one cache of sealed entries ({@link Barrier.sealedCache}). */
export interface SealedCacheBounds {
  /** The most entries kept, whatever their prefix; the oldest goes first. */
  readonly limit: number;
  /** Entries larger than this (bytes, sealed) are read from storage every time. */
  readonly maxEntryBytes: number;
}

/** 2,048 entries of up to 8 KiB: at most 16 MiB of ciphertext, for every mount together. */
export const SEALED_CACHE_BOUNDS: SealedCacheBounds = { limit: 2048, maxEntryBytes: 8192 };

/** Reads through a {@link Barrier.sealedCache}. */
export interface SealedReader {
  /** The entry under the cache's prefix, as `Barrier.read` returns it. */
  read<T>(key: string): Promise<BarrierEntry<T> | undefined>;
  /** Forgets every entry kept, of every prefix (after a seal). */
  clear(): void;
}

/** What the barrier needs from the seal: the current keyring, or a `Sealed` error. */
export interface BarrierKeys {
  /** Throws `ERR_SEALED` when sealed. */
  keyring(): Keyring;
  /**
   * Re-reads the keyring from storage: called when an entry names a barrier key version this
   * keyring lacks (another node rotated the key).
   */
  reloadKeyring(): Promise<void>;
}

/** Name of the barrier key inside the barrier keyring. */
export const BARRIER_KEY = 'barrier';

/**
 * Encrypts every value with AES-256-GCM under the barrier keyring before it reaches storage,
 * with the storage path as associated data: a value copied to another path, or any changed
 * byte, fails to decrypt instead of being served (`ERR_STORAGE_INTEGRITY`, HTTP 500).
 *
 * @example
 * ```ts
 * const barrier = createBarrier(store, seal);
 * await barrier.write('sys/policy/ops', { rules });
 * ```
 */
export function createBarrier(
  store: EntryStore,
  keys: BarrierKeys,
  bounds: SealedCacheBounds = SEALED_CACHE_BOUNDS,
): Barrier {
  const seal = (path: string, data: unknown): Buffer =>
    keys.keyring().encrypt(BARRIER_KEY, JSON.stringify(data), { aad: { path } });

  const unseal = async (path: string, value: Uint8Array): Promise<unknown> => {
    const decrypt = () => keys.keyring().decrypt(value, { aad: { path } });
    try {
      let plain: Buffer;
      try {
        plain = decrypt();
      } catch (err) {
        // A version this node has not seen yet: another node rotated the barrier key. Any
        // other failure is the entry's fault, and reloading would not change the outcome.
        if (!isCustosError(err, 'ERR_DECRYPTION_FAILED') || !namesUnknownVersion(value)) throw err;
        await keys.reloadKeyring();
        plain = decrypt();
      }
      return JSON.parse(plain.toString('utf8'));
    } catch (err) {
      if (
        !isCustosError(err, 'ERR_DECRYPTION_FAILED') &&
        !isCustosError(err, 'ERR_MALFORMED_CIPHERTEXT')
      )
        throw err;
      // Not the caller's input: storage does not hold what the barrier wrote under this path
      // (edited, swapped with another entry, or damaged). A fault of the server, HTTP 500.
      throw new ServerError(
        'ERR_STORAGE_INTEGRITY',
        `storage entry ${path} failed the barrier integrity check (changed, moved or damaged)`,
        { cause: err },
      );
    }
  };

  /** Whether the envelope names a version of the barrier key that this keyring lacks. */
  const namesUnknownVersion = (value: Uint8Array): boolean => {
    const { keyId, keyVersion } = parseEnvelope(value);
    const key = keys.keyring().info(BARRIER_KEY);
    return keyId === key.id && !key.versions.some((v) => v.version === keyVersion);
  };

  const opened = async <T>(path: string, entry: StoredEntry | undefined) =>
    entry === undefined
      ? undefined
      : { data: (await unseal(path, entry.value)) as T, revision: entry.revision };

  // Methods, not arrow functions: one writer is made per transaction, and the CLI's bundle
  // names every function value created at run time (esbuild's keepNames), methods excepted.
  const writer = (w: EntryWriter): BarrierWriter => ({
    async read<T>(path: string) {
      keys.keyring();
      return opened<T>(path, await w.get(path));
    },
    async readLocked<T>(path: string) {
      keys.keyring();
      return opened<T>(path, await w.getLocked(path));
    },
    revision(path: string) {
      keys.keyring();
      return w.revision(path);
    },
    listPaths(prefix: string) {
      keys.keyring();
      return w.listPaths(prefix);
    },
    create(path: string, data: unknown) {
      return w.insert(path, seal(path, data));
    },
    replace(path: string, data: unknown, revision: number) {
      return w.update(path, seal(path, data), revision);
    },
    write(path: string, data: unknown) {
      return w.put(path, seal(path, data));
    },
    remove(path: string) {
      keys.keyring();
      return w.delete(path);
    },
  });

  // Sealed entries by full path (`null`: known absent), made at the first reader. Kept only
  // while the feed is live and nothing wrote the entry since the read began (feed-cache.ts), so
  // a read that raced a write never keeps the old entry.
  let sealed: ReturnType<typeof createFeedCache<StoredEntry | null>> | undefined;
  const sealedCache = (prefix: string): SealedReader => {
    sealed ??= createFeedCache<StoredEntry | null>(store.changes, {
      prefix: '',
      limit: bounds.limit,
    });
    const cache = sealed;
    return {
      async read<T>(key: string) {
        keys.keyring();
        const path = prefix + key;
        const hit = cache.get(path);
        if (hit !== undefined) return opened<T>(path, hit ?? undefined);
        const stamp = cache.stamp();
        const entry = await store.get(path);
        // Kept once it opened: an entry that fails the integrity check is read again next time.
        const read = await opened<T>(path, entry);
        if (entry === undefined) cache.fill(path, null, stamp);
        else if (entry.value.byteLength <= bounds.maxEntryBytes)
          // A copy of its own: a driver's small buffers are slices of a shared pool, which
          // would keep that pool's other bytes (other requests' values) alive with it.
          cache.fill(path, { value: new Uint8Array(entry.value), revision: entry.revision }, stamp);
        return read;
      },
      clear: () => cache.clear(),
    };
  };

  return {
    ...writer(store),
    transaction: (work) => store.transaction((tx) => work(writer(tx))),
    changes: store.changes,
    sealedCache,
  };
}

/**
 * Runs `attempt` until it does not end in `ERR_VERSION_CONFLICT`, at most `maxAttempts` times.
 * Used for writes without check-and-set: a lost race is retried on fresh data.
 *
 * @example
 * ```ts
 * await retryOnConflict(() => barrier.transaction(async (tx) => { ... }));
 * ```
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>, maxAttempts = 50): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isServerError(err, 'ERR_VERSION_CONFLICT') || i >= maxAttempts) throw err;
      // Back off a little so contending writers interleave instead of colliding again.
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 * i)));
    }
  }
}
