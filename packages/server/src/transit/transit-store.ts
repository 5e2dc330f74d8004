import { CustosError, isCustosError } from '@custos/core/errors';
import {
  assertTransition,
  type CreateTransitKeyOptions,
  configureKey,
  createKeyPolicy,
  createKeyVersion,
  decodeBackup,
  encodeBackup,
  type KeyState,
  planTrim,
  rotationDue,
  type TransitKeyConfigChange,
  type TransitKeyPolicy,
  type TransitKeyVersion,
  type TransitKeyView,
} from '@custos/core/kms';
import { type Barrier, retryOnConflict } from '../barrier/barrier.js';
import { KeyedMutex } from '../lib/keyed-mutex.js';

const POLICY = 'transit/policy/';
const VERSION = 'transit/key/';
const versionPath = (name: string, version: number) => `${VERSION}${name}/${version}`;

/** Encryptions a node reserves from a version's stored counter at a time. */
const DEFAULT_COUNTER_BLOCK = 10_000;

interface CachedKey {
  policy: TransitKeyPolicy;
  revision: number;
  versions: Map<number, TransitKeyVersion>;
}

interface Reservation {
  remaining: number;
}

/** Options for {@link createTransitStore}. */
export interface TransitStoreOptions {
  readonly now?: () => Date;
  /** Encryptions reserved per storage write (default 10,000; smaller in tests). */
  readonly counterBlock?: number;
}

/**
 * Transit keys behind the barrier: one entry for the policy, one per version (so thousands of
 * rotations never build one huge record). Keys are cached per node and revalidated on every
 * use by the policy entry's revision (one indexed lookup, no decryption), so a rotation,
 * configuration or revocation made on another node applies at once. Encryption counters are
 * reserved in blocks under a revision check: the stored count is an upper bound across nodes.
 *
 * @example
 * ```ts
 * const transit = createTransitStore(barrier);
 * await transit.createKey('orders', {});
 * const view = await transit.view('orders');
 * ```
 */
export function createTransitStore(barrier: Barrier, options: TransitStoreOptions = {}) {
  const now = options.now ?? (() => new Date());
  const block = options.counterBlock ?? DEFAULT_COUNTER_BLOCK;
  const cache = new Map<string, CachedKey>();
  const reservations = new Map<string, Reservation>();
  const locks = new KeyedMutex();

  const load = async (name: string): Promise<CachedKey | undefined> => {
    const revision = await barrier.revision(POLICY + name);
    if (revision === undefined) {
      cache.delete(name);
      return undefined;
    }
    const cached = cache.get(name);
    if (cached !== undefined && cached.revision === revision) return cached;
    const stored = await barrier.read<TransitKeyPolicy>(POLICY + name);
    if (stored === undefined) return undefined;
    // Version material never changes; keep what is cached except versions trimmed since.
    const versions = new Map<number, TransitKeyVersion>();
    for (const [n, v] of cached?.versions ?? [])
      if (n >= stored.data.min_available_version) versions.set(n, v);
    const fresh: CachedKey = { policy: stored.data, revision: stored.revision, versions };
    cache.set(name, fresh);
    return fresh;
  };

  const version = async (key: CachedKey, n: number): Promise<TransitKeyVersion | undefined> => {
    const hit = key.versions.get(n);
    if (hit !== undefined) return hit;
    if (n < Math.max(1, key.policy.min_available_version) || n > key.policy.latest_version)
      return undefined;
    const stored = await barrier.read<TransitKeyVersion>(versionPath(key.policy.name, n));
    if (stored !== undefined) key.versions.set(n, stored.data);
    return stored?.data;
  };

  /** Loads the versions an operation may touch, so the synchronous crypto can look them up. */
  const viewOf = async (key: CachedKey, needed: readonly number[]): Promise<TransitKeyView> => {
    for (const n of new Set(needed)) await version(key, n);
    return { policy: key.policy, version: (n) => key.versions.get(n), nowMs: now().getTime() };
  };

  const mustLoad = async (name: string): Promise<CachedKey> => {
    const key = await load(name);
    if (key === undefined) throw new CustosError('ERR_KEY_NOT_FOUND', 'encryption key not found');
    return key;
  };

  /** Applies `change` to the policy at the revision read; retries races with other nodes. */
  const updatePolicy = (
    name: string,
    change: (policy: TransitKeyPolicy) => TransitKeyPolicy | Promise<TransitKeyPolicy>,
  ) =>
    locks.run(name, () =>
      retryOnConflict(async () => {
        const stored = await barrier.read<TransitKeyPolicy>(POLICY + name);
        if (stored === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
        const next = await change(stored.data);
        await barrier.replace(POLICY + name, next, stored.revision);
        cache.delete(name);
        return next;
      }),
    );

  const rotate = (name: string, onlyIfDue = false) =>
    locks.run(`rotate:${name}`, () =>
      retryOnConflict(() =>
        barrier.transaction(async (tx) => {
          const stored = await tx.read<TransitKeyPolicy>(POLICY + name);
          if (stored === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
          const policy = stored.data;
          if (onlyIfDue) {
            const latest = await tx.read<TransitKeyVersion>(
              versionPath(name, policy.latest_version),
            );
            if (latest === undefined || !rotationDue(policy, latest.data, now().getTime()))
              return policy.latest_version;
          }
          const next = policy.latest_version + 1;
          await tx.create(versionPath(name, next), createKeyVersion(policy.type, next, now()));
          await tx.replace(
            POLICY + name,
            { ...policy, latest_version: next, updated_time: now().toISOString() },
            stored.revision,
          );
          cache.delete(name);
          return next;
        }),
      ),
    );

  /**
   * Takes one encryption from this node's reservation for a version, reserving a new block
   * from storage when it runs out. Rotates first when the latest version is due.
   */
  const countEncryption = async (key: CachedKey, n: number): Promise<void> => {
    const id = `${key.policy.name}/${n}`;
    const reservation = reservations.get(id);
    if (reservation !== undefined && reservation.remaining > 0) {
      reservation.remaining--;
      return;
    }
    await locks.run(`counter:${id}`, async () => {
      const current = reservations.get(id);
      if (current !== undefined && current.remaining > 0) {
        current.remaining--;
        return;
      }
      const stored = await retryOnConflict(async () => {
        const entry = await barrier.read<TransitKeyVersion>(versionPath(key.policy.name, n));
        if (entry === undefined)
          throw new CustosError(
            'ERR_KEY_DISABLED',
            `version ${n} of key ${key.policy.name} no longer exists`,
          );
        const updated = { ...entry.data, encryptions: entry.data.encryptions + block };
        await barrier.replace(versionPath(key.policy.name, n), updated, entry.revision);
        return updated;
      });
      key.versions.set(n, stored);
      reservations.set(id, { remaining: block - 1 });
    });
  };

  return {
    /** The key, ready for the synchronous operations, with versions `needed` loaded. */
    async view(name: string, needed: readonly number[] = []): Promise<TransitKeyView> {
      const key = await mustLoad(name);
      return viewOf(key, [key.policy.latest_version, ...needed]);
    },

    async exists(name: string): Promise<boolean> {
      return (await barrier.revision(POLICY + name)) !== undefined;
    },

    /**
     * Prepares an encryption: rotates first if the latest version is due (by age or count),
     * then counts one encryption against the version that will be used.
     */
    async forEncryption(
      name: string,
      requestedVersion: number | undefined,
      count: number,
      needed: readonly number[] = [],
    ): Promise<TransitKeyView> {
      let key = await mustLoad(name);
      const latest = await version(key, key.policy.latest_version);
      if (latest !== undefined && rotationDue(key.policy, latest, now().getTime())) {
        await rotate(name, true);
        key = await mustLoad(name);
      }
      const used =
        requestedVersion && requestedVersion > 0 ? requestedVersion : key.policy.latest_version;
      const view = await viewOf(key, [key.policy.latest_version, used, ...needed]);
      if (key.versions.has(used)) for (let i = 0; i < count; i++) await countEncryption(key, used);
      return view;
    },

    /** Creates a key with version 1, or returns false when it exists already. */
    async createKey(name: string, options: CreateTransitKeyOptions): Promise<boolean> {
      const policy = createKeyPolicy(name, options, now());
      try {
        await barrier.transaction(async (tx) => {
          await tx.create(versionPath(name, 1), createKeyVersion(policy.type, 1, now()));
          await tx.create(POLICY + name, policy);
        });
        return true;
      } catch (err) {
        if (isCustosError(err, 'ERR_VERSION_CONFLICT')) return false;
        throw err;
      }
    },

    async describe(
      name: string,
    ): Promise<{ policy: TransitKeyPolicy; versions: TransitKeyVersion[] } | undefined> {
      const key = await load(name);
      if (key === undefined) return undefined;
      const versions: TransitKeyVersion[] = [];
      for (
        let n = Math.max(1, key.policy.min_available_version);
        n <= key.policy.latest_version;
        n++
      ) {
        const stored = await barrier.read<TransitKeyVersion>(versionPath(name, n));
        if (stored !== undefined) versions.push(stored.data);
      }
      return { policy: key.policy, versions };
    },

    async list(): Promise<string[]> {
      return (await barrier.listPaths(POLICY)).map((p) => p.slice(POLICY.length));
    },

    rotate: (name: string) => rotate(name),

    configure: (name: string, change: TransitKeyConfigChange) =>
      updatePolicy(name, (p) => configureKey(p, change, now())),

    setState: (name: string, state: KeyState) =>
      updatePolicy(name, (p) => {
        assertTransition(p.state, state);
        return { ...p, state, updated_time: now().toISOString() };
      }),

    /** Deletes versions below `minAvailableVersion` (their entries) and records the new floor. */
    async trim(name: string, minAvailableVersion: number): Promise<void> {
      await locks.run(name, () =>
        retryOnConflict(() =>
          barrier.transaction(async (tx) => {
            const stored = await tx.read<TransitKeyPolicy>(POLICY + name);
            if (stored === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
            for (const v of planTrim(stored.data, minAvailableVersion))
              await tx.remove(versionPath(name, v));
            await tx.replace(
              POLICY + name,
              { ...stored.data, min_available_version: minAvailableVersion },
              stored.revision,
            );
          }),
        ),
      );
      cache.delete(name);
    },

    /** Deletes the key and every version; only when `deletion_allowed`. */
    async deleteKey(name: string): Promise<void> {
      await locks.run(name, () =>
        barrier.transaction(async (tx) => {
          const stored = await tx.read<TransitKeyPolicy>(POLICY + name);
          if (stored === undefined) return;
          if (!stored.data.deletion_allowed)
            throw new CustosError('ERR_INVALID_REQUEST', 'deletion is not allowed for this key');
          for (let v = 1; v <= stored.data.latest_version; v++)
            await tx.remove(versionPath(name, v));
          await tx.replace(POLICY + name, stored.data, stored.revision);
          await tx.remove(POLICY + name);
        }),
      );
      cache.delete(name);
    },

    async backup(name: string): Promise<string> {
      const described = await this.describe(name);
      if (described === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
      if (!described.policy.exportable || !described.policy.allow_plaintext_backup) {
        throw new CustosError(
          'ERR_INVALID_REQUEST',
          'backup requires exportable and allow_plaintext_backup to be set on the key',
        );
      }
      return encodeBackup(described);
    },

    /** Restores a backup (from `transit/backup` or the local KMS) under its name or `rename`. */
    async restore(blob: unknown, rename: string | undefined, force: boolean): Promise<void> {
      const { policy, versions } = decodeBackup(blob);
      const name = rename ?? policy.name;
      await locks.run(name, () =>
        barrier.transaction(async (tx) => {
          const existing = await tx.read<TransitKeyPolicy>(POLICY + name);
          if (existing !== undefined && !force)
            throw new CustosError('ERR_INVALID_REQUEST', `key "${name}" already exists`);
          if (existing !== undefined) {
            for (let v = 1; v <= existing.data.latest_version; v++)
              await tx.remove(versionPath(name, v));
          }
          for (const v of versions) await tx.write(versionPath(name, v.version), v);
          await tx.write(POLICY + name, { ...policy, name });
        }),
      );
      cache.delete(name);
    },

    /** Rotates every key whose `auto_rotate_period` has passed (run periodically). */
    async rotateDueKeys(): Promise<number> {
      let rotated = 0;
      for (const name of await this.list()) {
        const key = await load(name);
        if (key === undefined || key.policy.auto_rotate_period === 0) continue;
        const before = key.policy.latest_version;
        if ((await rotate(name, true)) !== before) rotated++;
      }
      return rotated;
    },

    /** Forgets cached keys and counter reservations (after a seal). */
    clear(): void {
      cache.clear();
      reservations.clear();
    },
  };
}

/** The transit store's interface. */
export type TransitStore = ReturnType<typeof createTransitStore>;
