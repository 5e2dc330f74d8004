import { CustosError } from '@custos/core/errors';
import {
  assertBackupAllowed,
  assertNotRevoked,
  assertReplaceable,
  assertRotatable,
  changeState,
  checkEncryption,
  configureKey,
  createKeyPolicy,
  createKeyVersion,
  decodeBackup,
  encodeBackup,
  type KeyMaterial,
  materialFingerprints,
  newKeyMaterialAsync,
  planTrim,
  rotationDue,
  rotationDueByAge,
  type TransitKeyPolicy,
  type TransitKeyVersion,
  type TransitKeyView,
  validateKeyName,
  versionExhausted,
  wasRevoked,
} from '@custos/core/internal/transit';
import type { CreateTransitKeyOptions, KeyState, TransitKeyConfigChange } from '@custos/core/kms';
import { type Barrier, type BarrierWriter, retryOnConflict } from '../barrier/barrier.js';
import { barrierView } from '../barrier/barrier-view.js';
import { isServerError } from '../errors.js';
import { KeyedMutex } from '../lib/keyed-mutex.js';
import type { CacheCounter } from '../metrics/cache-counter.js';
import { createFeedCache } from '../storage/feed-cache.js';
import { TRANSIT } from '../storage/layout.js';
import { createTransitImports, type TransitImports } from './transit-imports.js';

const POLICY = TRANSIT.policy;
const VERSION = TRANSIT.key;
const versionPath = (name: string, version: number) => `${VERSION}${name}/${version}`;
/** Fingerprints of revoked key material, kept after the key is deleted (see the kms NOTES). */
const REVOKED = TRANSIT.revokedMaterial;

/** What a revoked-material entry records: the key the material was revoked with. */
interface RevokedMaterial {
  readonly key: string;
  readonly version: number;
}

/** Encryptions a node reserves from a version's stored counter at a time. */
const DEFAULT_COUNTER_BLOCK = 10_000;

/**
 * The smallest `rotate_after_encryptions` this server accepts by default. A rotation costs a
 * storage transaction and a version entry that every later read of the key walks (about as much
 * as a few encryptions); at 1,000 encryptions per version that is well under 1 % of the work,
 * so a token that may only encrypt cannot turn its requests into a key of endless versions.
 */
export const MIN_ROTATE_AFTER_ENCRYPTIONS = 1_000;

/**
 * The most versions one request may create by rotating a key out mid-batch. With the minimum
 * above and batches of at most 10,000 items a request needs at most 11; the cap holds for keys
 * stored with a smaller limit too (before the minimum, or under a test's smaller one).
 */
export const MAX_NEW_VERSIONS_PER_REQUEST = 100;

interface CachedKey {
  policy: TransitKeyPolicy;
  revision: number;
  versions: Map<number, TransitKeyVersion>;
}

/** Counter slots `next`..`end` of a version, reserved in storage by this node. */
interface Reservation {
  next: number;
  readonly end: number;
}

/** One request's encryptions: each takes a counted slot of the version it will use. */
export interface EncryptionSession {
  /** The key as it stands (for the decryption half of a rewrap). */
  readonly view: TransitKeyView;
  /**
   * Takes one encryption with `keyVersion` (or the latest) and returns the view to encrypt
   * with. When the latest version has no slot left under `rotate_after_encryptions` it is
   * rotated out first, mid-batch if need be; an explicit version at its limit is refused.
   */
  take(keyVersion: number | undefined): TransitKeyView | Promise<TransitKeyView>;
}

/** Options for {@link createTransitStore}. */
export interface TransitStoreOptions {
  readonly now?: () => Date;
  /** Encryptions reserved per storage write (default 10,000; smaller in tests). */
  readonly counterBlock?: number;
  /**
   * The smallest `rotate_after_encryptions` a key may be created, configured or restored with
   * (default {@link MIN_ROTATE_AFTER_ENCRYPTIONS}; smaller in tests of rotation by count).
   */
  readonly minRotateAfterEncryptions?: number;
  /** Counts the lookups of the key cache (metrics). */
  readonly cacheCounter?: CacheCounter;
}

/**
 * Transit's keys: creation, the lifecycle, rotation and trimming, backup and restore, and the
 * views the synchronous crypto runs on. Every change is checked against the key's state and
 * made under the policy entry's revision, so nodes sharing storage agree.
 *
 * @example
 * ```ts
 * await transit.createKey('orders', { type: 'aes256-gcm96' });
 * const session = await transit.forEncryption('orders', 1);
 * const key = await session.take(undefined);
 * ```
 */
export interface TransitStore extends TransitImports {
  /** The clock expiry and rotation are judged by (injectable for tests of time). */
  readonly now: () => Date;
  /** The key, ready for the synchronous operations, with versions `needed` loaded. */
  view(name: string, needed?: readonly number[]): Promise<TransitKeyView>;
  /** Whether key `name` exists (one indexed lookup, no decryption). */
  exists(name: string): Promise<boolean>;
  /**
   * Starts the encryptions of one request (`expected` of them): rotates first if the latest
   * version is due by age; by count, `take` rotates when no slot is left, so slots this node
   * reserved are used before the version is given up. `needed` versions are loaded for
   * decryption (rewrap).
   */
  forEncryption(
    name: string,
    expected: number,
    needed?: readonly number[],
  ): Promise<EncryptionSession>;
  /** Creates a key with version 1, or returns false when it exists already. */
  createKey(name: string, options: CreateTransitKeyOptions): Promise<boolean>;
  /** The key's policy and every stored version, or undefined when there is no such key. */
  describe(
    name: string,
  ): Promise<{ policy: TransitKeyPolicy; versions: TransitKeyVersion[] } | undefined>;
  /**
   * Per version, the encryption slots this node reserved but has not used. The stored count
   * includes them (it is what rotation compares to the limit); a reader subtracts them to show
   * encryptions made. Other nodes' unused reservations stay counted.
   */
  unusedReservations(name: string): ReadonlyMap<number, number>;
  /** Every key name, sorted. */
  list(): Promise<string[]>;
  /** Adds a version; returns its number. */
  rotate(name: string): Promise<number>;
  /** Changes the settings that may change after creation; returns the new policy. */
  configure(name: string, change: TransitKeyConfigChange): Promise<TransitKeyPolicy>;
  /** Moves the key through its lifecycle; a revocation also records its material as revoked. */
  setState(name: string, state: KeyState): Promise<void>;
  /** Deletes versions below `minAvailableVersion` (their entries) and records the new floor. */
  trim(name: string, minAvailableVersion: number): Promise<void>;
  /** Deletes the key and every version; only when `deletion_allowed`. */
  deleteKey(name: string): Promise<void>;
  /** The key as a backup blob; only as its lifecycle state and flags allow (see the kms NOTES). */
  backup(name: string): Promise<string>;
  /**
   * Restores a backup (from `transit/backup` or the local KMS) under its name or `rename`: the
   * name and every field of the backup are checked before anything is written, and `force`
   * replaces only a key that is active, rotating or inactive (a revoked key stays revoked).
   */
  restore(blob: unknown, rename: string | undefined, force: boolean): Promise<void>;
  /** Rotates every key whose `auto_rotate_period` has passed (run periodically). */
  rotateDueKeys(): Promise<number>;
  /** Forgets cached keys and counter reservations (after a seal). */
  clear(): void;
}

/**
 * Transit keys behind the barrier: one entry for the policy, one per version (so thousands of
 * rotations never build one huge record). Keys are cached per node until the storage's change
 * feed reports a write of the policy entry, on any node (a write returns once every node
 * dropped it), so a rotation, configuration or revocation made on another node applies at
 * once. Encryption counters are
 * reserved in blocks under a revision check and never past `rotate_after_encryptions`, so no
 * version is used more often than its limit, across requests and nodes (see the kms NOTES).
 *
 * @example
 * ```ts
 * const transit = createTransitStore(barrier);
 * await transit.createKey('orders', {});
 * const view = await transit.view('orders');
 * ```
 */
export function createTransitStore(
  barrier: Barrier,
  options: TransitStoreOptions = {},
  area: string = TRANSIT.prefix,
): TransitStore {
  // The mount's transit area of storage, and nothing else (keys are relative to it).
  const storage = barrierView(barrier, area);
  const now = options.now ?? (() => new Date());
  const block = options.counterBlock ?? DEFAULT_COUNTER_BLOCK;
  const minRotateAfter = options.minRotateAfterEncryptions ?? MIN_ROTATE_AFTER_ENCRYPTIONS;

  /** Refuses a `rotate_after_encryptions` below this server's minimum (see above). */
  const assertRotateAfter = (value: number | undefined) => {
    if (value !== undefined && value < minRotateAfter)
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        `rotate_after_encryptions must be at least ${minRotateAfter} on this server (each version costs a storage entry; a smaller limit makes that cost dominate)`,
      );
  };
  // Each key's policy, and the versions read for it, kept until the storage's change feed
  // reports a write of the policy (on any node); read on every use while the feed is not live.
  const cache = createFeedCache<CachedKey>(storage.changes, { prefix: POLICY, limit: 10_000 });
  const reservations = new Map<string, Reservation>();
  const locks = new KeyedMutex();

  const load = async (name: string): Promise<CachedKey | undefined> => {
    const cached = cache.get(name);
    if (cached !== undefined) {
      options.cacheCounter?.hit();
      return cached;
    }
    options.cacheCounter?.miss();
    const stamp = cache.stamp();
    const stored = await storage.read<TransitKeyPolicy>(POLICY + name);
    if (stored === undefined) return undefined;
    const fresh: CachedKey = {
      policy: stored.data,
      revision: stored.revision,
      versions: new Map(),
    };
    cache.fill(name, fresh, stamp);
    return fresh;
  };

  const version = async (key: CachedKey, n: number): Promise<TransitKeyVersion | undefined> => {
    const hit = key.versions.get(n);
    if (hit !== undefined) return hit;
    if (n < Math.max(1, key.policy.min_available_version) || n > key.policy.latest_version)
      return undefined;
    const stored = await storage.read<TransitKeyVersion>(versionPath(key.policy.name, n));
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
        const stored = await storage.read<TransitKeyPolicy>(POLICY + name);
        if (stored === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
        const next = await change(stored.data);
        await storage.replace(POLICY + name, next, stored.revision);
        cache.drop(name);
        return next;
      }),
    );

  /**
   * The material of the version a rotation would add, made before its transaction (an RSA-4096
   * key takes seconds of CPU: off the event loop, and never while a transaction is open); none
   * when there is no key or, for a rotation by age or count, none is due.
   */
  const materialAhead = async (
    name: string,
    onlyIfDue: boolean,
  ): Promise<{ type: TransitKeyPolicy['type']; material: KeyMaterial } | undefined> => {
    const stored = await storage.read<TransitKeyPolicy>(POLICY + name);
    if (stored === undefined) return undefined;
    const policy = stored.data;
    if (onlyIfDue) {
      const latest = await storage.read<TransitKeyVersion>(
        versionPath(name, policy.latest_version),
      );
      if (latest === undefined || !rotationDue(policy, latest.data, now().getTime()))
        return undefined;
    } else {
      assertRotatable(policy);
    }
    return { type: policy.type, material: await newKeyMaterialAsync(policy.type) };
  };

  const rotate = (name: string, onlyIfDue = false) =>
    locks.run(`rotate:${name}`, async () => {
      const ahead = await materialAhead(name, onlyIfDue);
      const latest = await retryOnConflict(() =>
        storage.transaction(async (tx) => {
          const stored = await tx.read<TransitKeyPolicy>(POLICY + name);
          if (stored === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
          const policy = stored.data;
          if (!onlyIfDue) assertRotatable(policy);
          if (onlyIfDue) {
            const latest = await tx.read<TransitKeyVersion>(
              versionPath(name, policy.latest_version),
            );
            if (latest === undefined || !rotationDue(policy, latest.data, now().getTime()))
              return policy.latest_version;
          }
          const next = policy.latest_version + 1;
          // The material made ahead, unless the key was replaced by one of another type since
          // (then made here: rare, and only for that race).
          const material = ahead?.type === policy.type ? ahead.material : undefined;
          await tx.create(
            versionPath(name, next),
            createKeyVersion(policy.type, next, now(), material),
          );
          await tx.replace(
            POLICY + name,
            { ...policy, latest_version: next, updated_time: now().toISOString() },
            stored.revision,
          );
          cache.drop(name);
          return next;
        }),
      );
      // Not rotated because another node just did: this node's cached policy may predate that
      // rotation (its notification still on the way), and the caller reloads it next.
      cache.drop(name);
      return latest;
    });

  /**
   * A version's reservations, named by its creation time too: a key deleted and created again
   * (here or on another node) never inherits the slots reserved for the old one.
   */
  const reservationId = (key: CachedKey, n: number) =>
    `${key.policy.name}/${n}/${key.versions.get(n)?.created_time ?? ''}`;

  /** Drops this node's reservations for a key that is deleted or replaced. */
  const forgetReservations = (name: string) => {
    for (const id of reservations.keys()) if (id.startsWith(`${name}/`)) reservations.delete(id);
  };

  /** Takes the next slot this node already reserved for version `n`, if one is left. */
  const takeReserved = (key: CachedKey, n: number): boolean => {
    const r = reservations.get(reservationId(key, n));
    if (r === undefined || r.next > r.end || r.next > key.policy.rotate_after_encryptions)
      return false;
    r.next++;
    return true;
  };

  /**
   * Takes the next counter slot of version `n` from this node's reservation, reserving more
   * from storage when it runs out: `wanted` slots (at least a block), never past
   * `rotate_after_encryptions`. Every slot number is handed out once across all nodes, so no
   * version is ever used more often than its limit. False when the version has no slot left.
   */
  const takeSlot = async (key: CachedKey, n: number, wanted: number): Promise<boolean> => {
    const limit = key.policy.rotate_after_encryptions;
    if (takeReserved(key, n)) return true;
    return locks.run(`counter:${key.policy.name}/${n}`, async () => {
      if (takeReserved(key, n)) return true;
      const reserved = await retryOnConflict(async () => {
        const entry = await storage.read<TransitKeyVersion>(versionPath(key.policy.name, n));
        if (entry === undefined)
          throw new CustosError(
            'ERR_KEY_DISABLED',
            `version ${n} of key ${key.policy.name} no longer exists`,
          );
        const room = limit - entry.data.encryptions;
        if (room <= 0) return { entry: entry.data, first: 0 };
        const size = Math.min(room, Math.max(block, wanted));
        const updated = { ...entry.data, encryptions: entry.data.encryptions + size };
        await storage.replace(versionPath(key.policy.name, n), updated, entry.revision);
        return { entry: updated, first: entry.data.encryptions + 1 };
      });
      // The stored count (reserved by every node) is what rotationDue compares to the limit.
      key.versions.set(n, reserved.entry);
      if (reserved.first === 0) return false;
      reservations.set(reservationId(key, n), {
        next: reserved.first + 1,
        end: reserved.entry.encryptions,
      });
      return true;
    });
  };

  /** Records the material of a revoked key's versions as revoked, for good. */
  const recordRevoked = async (
    tx: BarrierWriter,
    name: string,
    versions: readonly TransitKeyVersion[],
  ) => {
    for (const { fingerprint, version } of materialFingerprints(versions))
      await tx.write(REVOKED + fingerprint, { key: name, version } satisfies RevokedMaterial);
  };

  /**
   * Removes the usage log stored under `name`, in the transaction that creates or restores a key
   * there: the log of a key deleted before (or of a forced restore's predecessor) is not the
   * new key's history.
   */
  const dropUsage = async (tx: BarrierWriter, name: string) => {
    for (const path of await tx.listPaths(`${TRANSIT.usage}${name}/`)) await tx.remove(path);
  };

  /** The versions a key still holds, read inside `tx`. */
  const versionsIn = async (tx: BarrierWriter, policy: TransitKeyPolicy) => {
    const versions: TransitKeyVersion[] = [];
    for (let n = Math.max(1, policy.min_available_version); n <= policy.latest_version; n++) {
      const stored = await tx.read<TransitKeyVersion>(versionPath(policy.name, n));
      if (stored !== undefined) versions.push(stored.data);
    }
    return versions;
  };

  // BYOK (transit/wrapping_key, keys/:name/import[_version]): transit-imports.ts.
  const imports = createTransitImports(storage, now, (name) => {
    cache.drop(name);
    forgetReservations(name);
  });

  return {
    ...imports,

    /** The clock expiry and rotation are judged by (injectable for tests of time). */
    now,

    /** The key, ready for the synchronous operations, with versions `needed` loaded. */
    async view(name: string, needed: readonly number[] = []): Promise<TransitKeyView> {
      const key = await mustLoad(name);
      return viewOf(key, [key.policy.latest_version, ...needed]);
    },

    async exists(name: string): Promise<boolean> {
      return (await load(name)) !== undefined;
    },

    /**
     * Starts the encryptions of one request (`expected` of them): rotates first if the latest
     * version is due by age; by count, `take` rotates when no slot is left, so slots this node
     * reserved are used before the version is given up. `needed` versions are loaded for
     * decryption (rewrap).
     */
    async forEncryption(
      name: string,
      expected: number,
      needed: readonly number[] = [],
    ): Promise<EncryptionSession> {
      let key = await mustLoad(name);
      // One request creates at most MAX_NEW_VERSIONS_PER_REQUEST versions: a batch that could
      // need more is refused whole, before any encryption (and rotations are counted below).
      if (Math.ceil(expected / key.policy.rotate_after_encryptions) > MAX_NEW_VERSIONS_PER_REQUEST)
        throw new CustosError(
          'ERR_INVALID_REQUEST',
          `this request could create more than ${MAX_NEW_VERSIONS_PER_REQUEST} versions of key ${name}: send at most ${MAX_NEW_VERSIONS_PER_REQUEST * key.policy.rotate_after_encryptions} items per request under its rotate_after_encryptions`,
        );
      let rotations = 0;
      const latest = await version(key, key.policy.latest_version);
      if (latest !== undefined && rotationDueByAge(key.policy, latest, now().getTime())) {
        await rotate(name, true);
        key = await mustLoad(name);
      }
      let pending = expected;
      const session = {
        view: await viewOf(key, [key.policy.latest_version, ...needed]),
        take(keyVersion: number | undefined): TransitKeyView | Promise<TransitKeyView> {
          // Most encryptions find a slot this node reserved already: no storage, no await.
          const n = checkEncryption(session.view, keyVersion);
          if (key.versions.has(n) && takeReserved(key, n)) {
            pending = Math.max(0, pending - 1);
            return session.view;
          }
          return takeSlowly(keyVersion);
        },
      };
      const takeSlowly = async (keyVersion: number | undefined): Promise<TransitKeyView> => {
        for (;;) {
          // Refuses what the encryption would refuse (state, version limits) before counting.
          const n = checkEncryption(session.view, keyVersion);
          await version(key, n);
          if (!key.versions.has(n)) return session.view; // trimmed: the encryption says so
          if (await takeSlot(key, n, pending)) {
            pending = Math.max(0, pending - 1);
            return session.view;
          }
          if (keyVersion !== undefined && keyVersion !== 0) throw versionExhausted(key.policy, n);
          // Concurrent requests using up the new versions could make this one rotate again and
          // again: it stops at the cap (each call counts, whether or not it created a version).
          if (++rotations > MAX_NEW_VERSIONS_PER_REQUEST)
            throw new CustosError(
              'ERR_KEY_EXHAUSTED',
              `this request reached the most versions of key ${name} one request may create (${MAX_NEW_VERSIONS_PER_REQUEST}); send the rest in another request`,
            );
          // The latest version is used up: rotate it out (unless another request or node
          // already did) and go on with the batch on the new latest version.
          await rotate(name, true);
          key = await mustLoad(name);
          session.view = await viewOf(key, [key.policy.latest_version, ...needed]);
          if (key.policy.latest_version === n) {
            // Not rotated: the key can no longer encrypt (its state changed meanwhile).
            checkEncryption(session.view, keyVersion);
            throw versionExhausted(key.policy, n);
          }
        }
      };
      return session;
    },

    /** Creates a key with version 1, or returns false when it exists already. */
    async createKey(name: string, options: CreateTransitKeyOptions): Promise<boolean> {
      const policy = createKeyPolicy(name, options, now());
      assertRotateAfter(options.rotateAfterEncryptions);
      // Made before the transaction, off the event loop (RSA keys take seconds of CPU).
      if ((await storage.revision(POLICY + name)) !== undefined) return false;
      const material = await newKeyMaterialAsync(policy.type);
      try {
        await storage.transaction(async (tx) => {
          await tx.create(versionPath(name, 1), createKeyVersion(policy.type, 1, now(), material));
          await tx.create(POLICY + name, policy);
          await dropUsage(tx, name);
        });
        return true;
      } catch (err) {
        if (isServerError(err, 'ERR_VERSION_CONFLICT')) return false;
        throw err;
      }
    },

    unusedReservations(name: string): ReadonlyMap<number, number> {
      const unused = new Map<number, number>();
      for (const [id, r] of reservations) {
        if (!id.startsWith(`${name}/`)) continue;
        const version = Number(id.slice(name.length + 1, id.indexOf('/', name.length + 1)));
        if (r.next <= r.end) unused.set(version, r.end - r.next + 1);
      }
      return unused;
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
        const stored = await storage.read<TransitKeyVersion>(versionPath(name, n));
        if (stored !== undefined) versions.push(stored.data);
      }
      return { policy: key.policy, versions };
    },

    async list(): Promise<string[]> {
      return (await storage.listPaths(POLICY)).map((p) => p.slice(POLICY.length));
    },

    rotate: (name: string) => rotate(name),

    configure: (name: string, change: TransitKeyConfigChange) => {
      assertRotateAfter(change.rotateAfterEncryptions);
      return updatePolicy(name, (p) => configureKey(p, change, now()));
    },

    /** Moves the key through its lifecycle; a revocation also records its material as revoked. */
    async setState(name: string, state: KeyState): Promise<void> {
      await locks.run(name, () =>
        retryOnConflict(() =>
          storage.transaction(async (tx) => {
            const stored = await tx.read<TransitKeyPolicy>(POLICY + name);
            if (stored === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
            const next = changeState(stored.data, state, now());
            if (state === 'revoked') await recordRevoked(tx, name, await versionsIn(tx, next));
            await tx.replace(POLICY + name, next, stored.revision);
          }),
        ),
      );
      cache.drop(name);
    },

    /** Deletes versions below `minAvailableVersion` (their entries) and records the new floor. */
    async trim(name: string, minAvailableVersion: number): Promise<void> {
      await locks.run(name, () =>
        retryOnConflict(() =>
          storage.transaction(async (tx) => {
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
      cache.drop(name);
    },

    /** Deletes the key and every version; only when `deletion_allowed`. */
    async deleteKey(name: string): Promise<void> {
      await locks.run(name, () =>
        storage.transaction(async (tx) => {
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
      cache.drop(name);
      forgetReservations(name);
    },

    /** The key as a backup blob; only as its lifecycle state and flags allow (see the kms NOTES). */
    async backup(name: string): Promise<string> {
      const described = await this.describe(name);
      if (described === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
      assertBackupAllowed(described.policy, now().getTime());
      return encodeBackup(described);
    },

    /**
     * Restores a backup (from `transit/backup` or the local KMS) under its name or `rename`: the
     * name and every field of the backup are checked before anything is written, and `force`
     * replaces only a key that is active, rotating or inactive (a revoked key stays revoked).
     */
    async restore(blob: unknown, rename: string | undefined, force: boolean): Promise<void> {
      if (rename !== undefined) validateKeyName(rename);
      const { policy, versions } = decodeBackup(blob);
      assertRotateAfter(policy.rotate_after_encryptions);
      const name = rename ?? policy.name;
      // The policy is written on the revision read (created if absent): a revocation or a
      // restore committed meanwhile on another node makes this one retry and judge again.
      await locks.run(name, () =>
        retryOnConflict(() =>
          storage.transaction(async (tx) => {
            const existing = await tx.read<TransitKeyPolicy>(POLICY + name);
            if (existing !== undefined && !force)
              throw new CustosError(
                'ERR_INVALID_REQUEST',
                'a key with that name already exists (force replaces it)',
              );
            if (existing !== undefined) assertReplaceable(existing.data, now().getTime());
            for (const { fingerprint, version } of materialFingerprints(versions)) {
              if ((await tx.revision(REVOKED + fingerprint)) === undefined) continue;
              const revoked = await tx.read<RevokedMaterial>(REVOKED + fingerprint);
              assertNotRevoked(version, revoked?.data.key ?? 'unknown');
            }
            if (existing !== undefined) {
              for (let v = 1; v <= existing.data.latest_version; v++)
                await tx.remove(versionPath(name, v));
            }
            for (const v of versions) await tx.write(versionPath(name, v.version), v);
            const restored = { ...policy, name };
            if (existing === undefined) await tx.create(POLICY + name, restored);
            else await tx.replace(POLICY + name, restored, existing.revision);
            if (wasRevoked(policy)) await recordRevoked(tx, name, versions);
            await dropUsage(tx, name);
          }),
        ),
      );
      cache.drop(name);
      forgetReservations(name);
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
      imports.clearWrappingKey();
    },
  };
}
