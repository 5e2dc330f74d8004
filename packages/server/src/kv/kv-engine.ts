import { CustosError } from '@custos/core/errors';
import { type Barrier, type BarrierWriter, retryOnConflict } from '../barrier/barrier.js';
import { barrierView } from '../barrier/barrier-view.js';
import { isServerError, ServerError } from '../errors.js';
import { KeyedMutex } from '../lib/keyed-mutex.js';
import { createFeedCache } from '../storage/feed-cache.js';
import { KV } from '../storage/layout.js';
import {
  addVersion,
  DEFAULT_KV_CONFIG,
  emptyMetadata,
  isDeleted,
  type KeyMetadata,
  type KvConfig,
  mergePatch,
  type NewVersionOptions,
  scheduledDeletion,
} from './kv-metadata.js';
import { type Stage, versionOfStage } from './kv-stages.js';

/** How a write treats the key (beyond check-and-set) and labels its new version. */
export interface WriteOptions extends NewVersionOptions {
  /** Refuse (`ERR_KEY_EXISTS`) when the key exists, even with no version. */
  readonly mustNotExist?: boolean;
  /** Refuse (`ERR_NOT_FOUND`) when the key does not exist. */
  readonly mustExist?: boolean;
  /**
   * Runs in the write's transaction on the metadata read there, before the version is added:
   * throws to refuse the write, or sets metadata fields written with the version.
   */
  readonly prepare?: (meta: KeyMetadata) => void;
}

/** What a write did: the version written, or the one an earlier write with its id wrote. */
export interface WriteResult {
  readonly meta: KeyMetadata;
  readonly version: number;
  /** True when `versionId` named an earlier version with the same data: nothing was written. */
  readonly replayed?: boolean;
}

/** A write whose `versionId` names an existing version that holds other data. */
export const VERSION_ID_TAKEN = 'a version with this id already exists and holds other data';

/** Vault's check-and-set messages, which clients match on. */
export const CAS_MISMATCH = 'check-and-set parameter did not match the current version';
export const CAS_REQUIRED = 'check-and-set parameter required for this call';

/** The version a client's version id names, if any. */
function versionNamedBy(meta: KeyMetadata, versionId: string): number | undefined {
  const ids = meta.version_ids;
  return ids !== undefined && Object.hasOwn(ids, versionId) ? ids[versionId] : undefined;
}

/** What reading one version found. */
export type VersionRead =
  | { readonly kind: 'missing' }
  | { readonly kind: 'unavailable'; readonly meta: KeyMetadata; readonly version: number }
  | {
      readonly kind: 'ok';
      readonly meta: KeyMetadata;
      readonly version: number;
      readonly data: Record<string, unknown>;
    };

/**
 * KV version 2 for one mount: versioned secrets with metadata, check-and-set, soft delete,
 * undelete and destroy. Keys are the paths after `data/` (`app/db`); every method that changes
 * a key is one storage transaction.
 *
 * @example
 * ```ts
 * const found = await kv.read('app/db');
 * if (found.kind === 'ok') console.log(found.version, Object.keys(found.data));
 * ```
 */
export interface KvEngine {
  /** The mount's settings (defaults until `setConfig`). */
  config(): Promise<KvConfig>;
  /** Replaces the mount's settings. */
  setConfig(next: KvConfig): Promise<void>;
  /**
   * Version `requested` of `key`, or the version holding `stage`; by default the `current` one
   * (the version labelled `AWSCURRENT`: a pending version written by a rotation is not read
   * until it is made current). `missing` when the stage is held by no version; when both are
   * given they must name the same version (else `ERR_INVALID_REQUEST`).
   */
  read(key: string, requested?: number, stage?: Stage): Promise<VersionRead>;
  /** The key's metadata, or undefined when the key does not exist. */
  readMetadata(key: string): Promise<KeyMetadata | undefined>;
  /** Forgets the cached metadata of every key (after a seal). */
  clearCache(): void;
  /**
   * Writes a new version; with `cas`, only if the current version is `cas` (0: the key must not
   * exist). Throws `ERR_VERSION_CONFLICT` (CAS mismatch) or `ERR_INVALID_REQUEST` (CAS required).
   */
  write(
    key: string,
    data: Record<string, unknown>,
    cas?: number,
    options?: WriteOptions,
  ): Promise<WriteResult>;
  /**
   * Creates the key's metadata with `fields` and no version; false when the key exists. One
   * transaction: of two creators, one gets false.
   */
  createKey(key: string, fields: Partial<KeyMetadata>): Promise<boolean>;
  /** JSON merge patch of the current version into a new version; 404 if none is readable. */
  patch(key: string, patch: Record<string, unknown>, cas?: number): Promise<WriteResult>;
  /** Soft-deletes the version a plain read serves: `current`, else the latest (no-op when deleted or destroyed). */
  deleteLatest(key: string): Promise<boolean>;
  /** Soft-deletes the listed versions (those that exist). */
  deleteVersions(key: string, versions: readonly number[]): Promise<boolean>;
  /** Undoes a soft delete of the listed versions (destroyed ones stay destroyed). */
  undeleteVersions(key: string, versions: readonly number[]): Promise<boolean>;
  /** Marks versions destroyed and deletes their data for good, in the same transaction. */
  destroyVersions(key: string, versions: readonly number[]): Promise<boolean>;
  /** Sets metadata fields (creating the metadata when missing), as `POST metadata/:path`. */
  setMetadata(
    key: string,
    fields: Partial<
      Pick<
        KeyMetadata,
        'max_versions' | 'cas_required' | 'delete_version_after' | 'custom_metadata'
      >
    >,
  ): Promise<boolean>;
  /** Merges metadata fields into existing metadata; returns false when there is none. */
  patchMetadata(key: string, apply: (meta: KeyMetadata) => void): Promise<boolean>;
  /** Removes the key: every version's data and the metadata, in one transaction. */
  deleteMetadata(key: string): Promise<void>;
  /** Immediate children of `folder` (keys, and folders ending in '/'), as Vault lists them. */
  list(folder: string): Promise<string[]>;
}

/**
 * KV version 2 on top of the barrier, for one mount. Every write of a version is one transaction:
 * the version's data entry (created; its primary key refuses a second writer of the same
 * version) and the key's metadata (replaced only at the revision that was read). A lost race
 * without check-and-set is retried on fresh data; with check-and-set it is the CAS mismatch it
 * really is.
 *
 * @example
 * ```ts
 * const kv = createKvEngine(barrier, 'secret');
 * const { meta, version } = await kv.write('app/db', { password: 'x' }, { cas: 0 });
 * ```
 */
export function createKvEngine(
  barrier: Barrier,
  mount: string,
  now: () => number = Date.now,
): KvEngine {
  // The mount's area of storage, and nothing else (keys are relative to it).
  return kvEngineOn(barrierView(barrier, KV.prefix(mount)), now);
}

/** A key's metadata as cached: frozen (shared by its readers), with its storage revision. */
interface CachedMetadata {
  readonly meta: KeyMetadata;
  readonly revision: number;
}

/**
 * A writable copy of cached (frozen) metadata for a write of a new version: the top level and
 * the map of versions are copied, as a write adds and trims versions there and sets top-level
 * fields (labels, version ids and AWS attributes are replaced whole, never changed in place).
 * The version entries and other nested values stay shared with the cached copy, frozen, so a
 * change made in place by mistake throws instead of altering what other requests read. Unlike
 * a deep clone, the copy leaves little for the garbage collector: the entries it shares stay
 * live in the copy that replaces the cached one (each write's clone of ten versions used to
 * outlive two young collections under load, copied twice by each).
 */
function copyForWrite(meta: KeyMetadata): KeyMetadata {
  return { ...meta, versions: { ...meta.versions } };
}

/** `value` and everything it holds, made read-only (a cached entry shared by its readers). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * KV version 2 on `storage`, the barrier already narrowed to one mount's area (a mount enabled
 * through `sys/mounts` keeps its data under `mount/<uuid>/`).
 *
 * @example
 * ```ts
 * const kv = kvEngineOn(barrierView(barrier, mount.storage));
 * ```
 */
export function kvEngineOn(storage: Barrier, now: () => number = Date.now): KvEngine {
  const configPath = KV.config;
  const metaPath = (key: string) => KV.meta + key;
  /** A version's key under KV.version (the sealed cache's keys), and its path in the mount. */
  const versionKey = (key: string, version: number) => `${version}/${key}`;
  const versionPath = (key: string, version: number) => KV.version + versionKey(key, version);
  const locks = new KeyedMutex();
  // Each key's metadata (frozen: callers share it) and its revision, or null for a key without
  // any, kept until the change feed reports a write of it on any node; read on every use while
  // the feed is not live.
  const metadata = createFeedCache<CachedMetadata | null>(storage.changes, {
    prefix: KV.meta,
    limit: 10_000,
  });
  // Version entries, kept sealed (as stored) and decrypted on every read: a read of a warm key
  // makes no storage round trip, and no secret value is held in the clear between requests.
  // A version's entry is written once and then only removed (destroyed, trimmed, its key
  // deleted), each a write the feed reports. One cache for every mount (SEALED_CACHE_BOUNDS).
  const versions = storage.sealedCache(KV.version);
  // The mount's settings, kept the same way (written by `setConfig` only).
  const settings = createFeedCache<KvConfig>(storage.changes, { prefix: configPath, limit: 1 });
  const cachedMetadata = async (key: string): Promise<CachedMetadata | null> => {
    const hit = metadata.get(key);
    if (hit !== undefined) return hit;
    const stamp = metadata.stamp();
    const stored = await storage.read<KeyMetadata>(metaPath(key));
    const entry =
      stored === undefined ? null : { meta: deepFreeze(stored.data), revision: stored.revision };
    metadata.fill(key, entry, stamp);
    return entry;
  };
  const currentMetadata = async (key: string): Promise<KeyMetadata | undefined> =>
    (await cachedMetadata(key))?.meta;

  /** The settings read through `r` (in a transaction or not), kept while the feed allows. */
  const readConfig = async (r: Pick<BarrierWriter, 'read'>): Promise<KvConfig> => {
    const stamp = settings.stamp();
    const stored = (await r.read<KvConfig>(configPath))?.data ?? DEFAULT_KV_CONFIG;
    const read = Object.freeze({ ...stored });
    settings.fill('', read, stamp);
    return read;
  };
  const currentConfig = async (): Promise<KvConfig> =>
    settings.get('') ?? (await readConfig(storage));

  const checkCas = (cas: number | undefined, cfg: KvConfig, meta: KeyMetadata): void => {
    if (cas !== undefined) {
      if (cas !== meta.current_version) throw new ServerError('ERR_VERSION_CONFLICT', CAS_MISMATCH);
    } else if (cfg.cas_required || meta.cas_required) {
      throw new CustosError('ERR_INVALID_REQUEST', CAS_REQUIRED);
    }
  };

  /** Writes a new version computed by `produce` from the current metadata (in one transaction). */
  const writeVersion = (
    key: string,
    cas: number | undefined,
    produce: (meta: KeyMetadata, tx: BarrierWriter) => Promise<Record<string, unknown>>,
    options: WriteOptions,
  ) => {
    /**
     * One try. `cached`: the settings and metadata this node holds (when it holds them) stand
     * in for the reads in the transaction; the metadata is still replaced only at the revision
     * it had, so a commit proves it was current. A try on cached data refused for any reason
     * (a conflict, a refusal decided on them) is made again on fresh reads; a storage failure is
     * not (whether it committed is unknown).
     */
    const attempt = async (cached: boolean): Promise<WriteResult> => {
      const cfgHeld = cached ? settings.get('') : undefined;
      const held = cached && options.versionId === undefined ? metadata.get(key) : undefined;
      const used = cfgHeld !== undefined || held !== undefined;
      // Taken before the write: the metadata it commits is kept unless another write came too.
      const stamp = metadata.stamp();
      let written: CachedMetadata | undefined;
      const once = storage.transaction(async (tx): Promise<WriteResult> => {
        const cfg = cfgHeld ?? (await readConfig(tx));
        const stored =
          held === undefined
            ? await tx.read<KeyMetadata>(metaPath(key))
            : held === null
              ? undefined
              : { data: copyForWrite(held.meta), revision: held.revision };
        if (stored === undefined && options.mustExist === true)
          throw new CustosError('ERR_NOT_FOUND', 'not found');
        if (stored !== undefined && options.mustNotExist === true)
          throw new CustosError('ERR_KEY_EXISTS', 'the key already exists');
        const meta = stored?.data ?? emptyMetadata(new Date(now()).toISOString());
        options.prepare?.(meta);
        const earlier =
          options.versionId === undefined ? undefined : versionNamedBy(meta, options.versionId);
        checkCas(cas, cfg, meta);
        const data = await produce(meta, tx);
        if (earlier !== undefined) {
          const held = await tx.read<{ data: Record<string, unknown> }>(versionPath(key, earlier));
          if (held === undefined || JSON.stringify(held.data.data) !== JSON.stringify(data))
            // Not a conflict to retry: the id is taken for good.
            throw new CustosError('ERR_KEY_EXISTS', VERSION_ID_TAKEN);
          return { meta, version: earlier, replayed: true };
        }
        const createdMs = now();
        const trimmed = addVersion(
          meta,
          {
            created_time: new Date(createdMs).toISOString(),
            deletion_time: scheduledDeletion(createdMs, cfg, meta),
            destroyed: false,
          },
          cfg,
          options,
        );
        await tx.create(versionPath(key, meta.current_version), { data });
        const revision =
          stored === undefined
            ? await tx.create(metaPath(key), meta)
            : await tx.replace(metaPath(key), meta, stored.revision);
        for (const v of trimmed) await tx.remove(versionPath(key, v));
        // The transaction's own copy: frozen, it is both the answer and the cached entry.
        written = { meta: deepFreeze(meta), revision };
        return { meta, version: meta.current_version };
      });
      const kept = once.then((result) => {
        if (written !== undefined) metadata.fillWritten(key, written, stamp);
        return result;
      });
      if (!used) return kept;
      return kept.catch((err: unknown) => {
        if (!(err instanceof CustosError)) throw err;
        // What was cached may be what failed: the next use reads it again.
        if (held !== undefined) metadata.drop(key);
        if (cfgHeld !== undefined) settings.drop('');
        return attempt(false);
      });
    };
    if (cas === undefined) return retryOnConflict(() => attempt(true));
    return attempt(true).catch((err: unknown) => {
      // Someone else wrote between our read and our commit: the CAS no longer holds.
      if (isServerError(err, 'ERR_VERSION_CONFLICT'))
        throw new ServerError('ERR_VERSION_CONFLICT', CAS_MISMATCH);
      throw err;
    });
  };

  /** Applies `change` to a key's metadata under the revision it was read at, retrying races. */
  const updateMetadata = (
    key: string,
    /** Mutates `meta`; returning false means nothing changed and nothing is written. */
    change: (meta: KeyMetadata, tx: BarrierWriter) => unknown,
    createIfMissing = false,
  ) =>
    locks.run(key, () =>
      retryOnConflict(() =>
        storage.transaction(async (tx) => {
          const stored = await tx.read<KeyMetadata>(metaPath(key));
          if (stored === undefined && !createIfMissing) return false;
          const meta = stored?.data ?? emptyMetadata(new Date(now()).toISOString());
          if ((await change(meta, tx)) === false) return true;
          if (stored === undefined) await tx.create(metaPath(key), meta);
          else await tx.replace(metaPath(key), meta, stored.revision);
          return true;
        }),
      ),
    );

  const readVersion = async (
    key: string,
    requested?: number,
    stage?: Stage,
  ): Promise<VersionRead> => {
    const meta = await currentMetadata(key);
    if (meta === undefined) return { kind: 'missing' };
    const staged = versionOfStage(meta, stage ?? 'current');
    const asked = requested && requested > 0 ? requested : undefined;
    if (stage !== undefined && staged === undefined) return { kind: 'missing' };
    if (stage !== undefined && asked !== undefined && asked !== staged)
      throw new CustosError('ERR_INVALID_REQUEST', `version and stage name different versions`);
    const version = asked ?? staged ?? meta.current_version;
    const vm = meta.versions[String(version)];
    if (vm === undefined) return { kind: 'missing' };
    if (vm.destroyed || isDeleted(vm, now())) return { kind: 'unavailable', meta, version };
    const entry = await versions.read<{ data: Record<string, unknown> }>(versionKey(key, version));
    if (entry === undefined) return { kind: 'missing' };
    return { kind: 'ok', meta, version, data: entry.data.data };
  };

  const forVersions = (
    key: string,
    versions: readonly number[],
    apply: (v: string, meta: KeyMetadata) => void,
  ) =>
    updateMetadata(key, (meta) => {
      for (const v of versions) if (meta.versions[String(v)] !== undefined) apply(String(v), meta);
    });

  return {
    config: () => currentConfig(),
    async setConfig(next: KvConfig): Promise<void> {
      await storage.write(configPath, next);
    },
    read: readVersion,
    readMetadata: currentMetadata,
    clearCache: () => {
      metadata.clear();
      versions.clear();
      settings.clear();
    },

    write: (key: string, data: Record<string, unknown>, cas?: number, options: WriteOptions = {}) =>
      writeVersion(key, cas, async () => data, options),

    createKey: (key: string, fields: Partial<KeyMetadata>) =>
      locks.run(key, () =>
        storage.transaction(async (tx) => {
          if ((await tx.read<KeyMetadata>(metaPath(key))) !== undefined) return false;
          const meta = { ...emptyMetadata(new Date(now()).toISOString()), ...fields };
          await tx.create(metaPath(key), meta);
          return true;
        }),
      ),

    /** JSON merge patch of the current version into a new version; 404 if none is readable. */
    patch: (key: string, patch: Record<string, unknown>, cas?: number) =>
      writeVersion(
        key,
        cas,
        async (meta, tx) => {
          // The patch applies to what readers get: the `current` version, not a pending one.
          const base = versionOfStage(meta, 'current') ?? meta.current_version;
          const vm = meta.versions[String(base)];
          if (vm === undefined || vm.destroyed || isDeleted(vm, now())) {
            throw new CustosError('ERR_NOT_FOUND', 'not found');
          }
          const current = await tx.read<{ data: Record<string, unknown> }>(versionPath(key, base));
          return mergePatch(current?.data.data ?? {}, patch) as Record<string, unknown>;
        },
        { mustExist: true },
      ),

    /** Soft-deletes the version a plain read serves: `current`, else the latest (no-op when deleted or destroyed). */
    deleteLatest: (key: string) =>
      updateMetadata(key, (meta) => {
        // The version a plain read serves: `current` when staging labels say so (a pending
        // version is newer but no reader has it), else the highest.
        const served = versionOfStage(meta, 'current') ?? meta.current_version;
        const vm = meta.versions[String(served)];
        if (vm === undefined || vm.destroyed || isDeleted(vm, now())) return false;
        vm.deletion_time = new Date(now()).toISOString();
        return true;
      }),

    deleteVersions: (key: string, versions: readonly number[]) =>
      forVersions(key, versions, (v, meta) => {
        const vm = meta.versions[v];
        if (vm && !vm.destroyed && !isDeleted(vm, now()))
          vm.deletion_time = new Date(now()).toISOString();
      }),

    undeleteVersions: (key: string, versions: readonly number[]) =>
      forVersions(key, versions, (v, meta) => {
        const vm = meta.versions[v];
        if (vm && !vm.destroyed) vm.deletion_time = '';
      }),

    /** Marks versions destroyed and deletes their data for good, in the same transaction. */
    destroyVersions: (key: string, versions: readonly number[]) =>
      updateMetadata(key, async (meta, tx) => {
        for (const v of versions) {
          const vm = meta.versions[String(v)];
          if (vm === undefined || vm.destroyed) continue;
          vm.destroyed = true;
          await tx.remove(versionPath(key, v));
        }
      }),

    /** Sets metadata fields (creating the metadata when missing), as `POST metadata/:path`. */
    setMetadata: (
      key: string,
      fields: Partial<
        Pick<
          KeyMetadata,
          'max_versions' | 'cas_required' | 'delete_version_after' | 'custom_metadata'
        >
      >,
    ) =>
      updateMetadata(
        key,
        (meta) => {
          Object.assign(meta, fields);
          meta.updated_time = new Date(now()).toISOString();
        },
        true,
      ),

    /** Merges metadata fields into existing metadata; returns false when there is none. */
    patchMetadata: (key: string, apply: (meta: KeyMetadata) => void) =>
      updateMetadata(key, (meta) => {
        apply(meta);
        meta.updated_time = new Date(now()).toISOString();
      }),

    /** Removes the key: every version's data and the metadata, in one transaction. */
    deleteMetadata: (key: string) =>
      locks.run(key, () =>
        retryOnConflict(() =>
          storage.transaction(async (tx) => {
            const stored = await tx.read<KeyMetadata>(metaPath(key));
            if (stored === undefined) return;
            for (const v of Object.keys(stored.data.versions))
              await tx.remove(versionPath(key, Number(v)));
            await tx.replace(metaPath(key), stored.data, stored.revision); // claims the revision
            await tx.remove(metaPath(key));
          }),
        ),
      ),

    /** Immediate children of `prefix` (keys, and folders ending in '/'), as Vault lists them. */
    async list(folder: string): Promise<string[]> {
      const prefix = folder === '' || folder.endsWith('/') ? folder : `${folder}/`;
      const base = metaPath(prefix);
      const children = new Set<string>();
      for (const path of await storage.listPaths(base)) {
        const rest = path.slice(base.length);
        const slash = rest.indexOf('/');
        children.add(slash === -1 ? rest : rest.slice(0, slash + 1));
      }
      children.delete('');
      return [...children].sort();
    },
  };
}
