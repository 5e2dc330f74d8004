import { randomUUID } from 'node:crypto';
import { CustosError } from '@custos/core/errors';
import type { Barrier, BarrierWriter } from '../barrier/barrier.js';
import { retryOnConflict } from '../barrier/barrier.js';
import { barrierView } from '../barrier/barrier-view.js';
import { createFeedCache } from '../storage/feed-cache.js';
import { APPROLE, KV, MOUNT_DATA, MOUNT_TABLE, TRANSIT } from '../storage/layout.js';
import { clashingMount } from './mount-path.js';

/**
 * What else lives by a mount's path and moves or goes with it (the rotation state of its
 * secrets: rotation/mount-lifecycle.ts). Each runs inside the mount table's transaction, so
 * the move (or removal) commits with the table change or not at all; then once more after it
 * on the barrier, for what a writer admitted before the change wrote after it (each must be
 * safe to run again, and find nothing to do on an area already handled).
 */
export interface MountDataHooks {
  /**
   * The mount (now at `mount.path`) moved from `from`; `phase` tells the run inside the
   * transaction from the one after it.
   */
  moved?(
    writer: BarrierWriter,
    mount: MountEntry,
    from: string,
    phase: MountChangePhase,
  ): Promise<void>;
  /** The mount was disabled. */
  removed?(writer: BarrierWriter, mount: MountEntry, phase: MountChangePhase): Promise<void>;
}

/** Inside the mount table's transaction, or after it committed (stragglers). */
export type MountChangePhase = 'transaction' | 'after';

/** The engines custos mounts. */
export type MountType = 'kv' | 'transit' | 'system' | 'cubbyhole' | 'token' | 'approle';

/** The engine that serves a mount's routes: KV splits by `options.version`. */
export type MountEngine =
  | 'kv-1'
  | 'kv-2'
  | 'transit'
  | 'system'
  | 'cubbyhole'
  | 'token'
  | 'approle';

/** A mount's tunable settings, as `sys/mounts/:path/tune` reads them (seconds; 0 = default). */
export interface MountConfig {
  readonly default_lease_ttl: number;
  readonly max_lease_ttl: number;
}

/** One mount of the table (a secrets engine, or an auth method under `auth/`). */
export interface MountEntry {
  /** `secret/`, `teams/a/kv/`, `auth/approle/`: canonical segments (`mount-path.ts`) and a `/`. */
  readonly path: string;
  readonly type: MountType;
  readonly description: string;
  readonly uuid: string;
  readonly accessor: string;
  readonly options: Readonly<Record<string, string>> | null;
  readonly config: MountConfig;
  /** The barrier prefix of the mount's data (`null`: it stores nothing of its own). */
  readonly storage: string | null;
  /**
   * Served at this path only: `sys/`, `cubbyhole/`, `auth/token/`, `secret/` and `transit/`
   * (the Secrets Manager and KMS APIs keep their data there) cannot be disabled or moved.
   */
  readonly fixed?: boolean;
}

/** The stored table. */
interface StoredTable {
  readonly mounts: MountEntry[];
}

/** What enabling a mount takes. */
export interface MountRequest {
  readonly path: string;
  readonly type: MountType;
  readonly description?: string;
  readonly options?: Readonly<Record<string, string>> | null;
  readonly config?: Partial<MountConfig>;
}

/**
 * The mount table: which engine serves which path. Kept behind the barrier in one entry, every
 * change one transaction at the entry's revision. Each node keeps the table it read until the
 * storage's change feed reports a change of it (made by any node), and reads it on every
 * request while the feed is not live; a change returns once every node dropped the old table.
 */
export interface MountTable {
  /** Writes the table the server starts with when storage has none (at unseal). */
  load(): Promise<void>;
  /** Every mount, current (secrets engines and auth methods). */
  list(): Promise<readonly MountEntry[]>;
  /** The mount at `path` exactly (`kv1/`, `auth/approle/`), current. */
  get(path: string): Promise<MountEntry | undefined>;
  /** Adds a mount; refused if its path (or one it nests in, or under) is taken. */
  enable(request: MountRequest): Promise<MountEntry>;
  /**
   * Removes the mount at `path` and, in the same transaction, every entry of its data and what
   * is kept by its path (rotation state: `MountDataHooks`). `false` when nothing was mounted
   * there.
   */
  disable(path: string): Promise<boolean>;
  /** Changes a mount's description, lease settings or options (`version` cannot change). */
  tune(
    path: string,
    change: {
      readonly description?: string;
      readonly config?: Partial<MountConfig>;
      readonly options?: Readonly<Record<string, string>>;
    },
  ): Promise<MountEntry>;
  /**
   * Moves the mount at `from` to `to`; its data stays where it is (keyed by the mount), what
   * is kept by its path (rotation state) moves with it (`MountDataHooks`).
   */
  remount(from: string, to: string): Promise<MountEntry>;
  /** Forgets the cached table (after a seal). */
  clear(): void;
}

/** The engine serving a mount. */
export function engineOf(mount: MountEntry): MountEngine {
  if (mount.type === 'kv') return mount.options?.version === '2' ? 'kv-2' : 'kv-1';
  return mount.type;
}

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

const NO_CONFIG: MountConfig = { default_lease_ttl: 0, max_lease_ttl: 0 };

const accessorOf = (type: MountType) => `${type}_${randomUUID().slice(0, 8)}`;

/** The mounts a server starts with, over the storage areas they have always had. */
function initialTable(): StoredTable {
  const entry = (
    path: string,
    type: MountType,
    description: string,
    storage: string | null,
    extra: Partial<MountEntry> = {},
  ): MountEntry => ({
    path,
    type,
    description,
    uuid: randomUUID(),
    accessor: accessorOf(type),
    options: null,
    config: NO_CONFIG,
    storage,
    ...extra,
  });
  return {
    mounts: [
      // Fixed too: the Secrets Manager API stores in it and judges its requests on secret/
      // paths, so a moved mount would be governed by policies on its old path and a disabled
      // one would keep being written where no mount shows it.
      entry('secret/', 'kv', 'key/value secret storage', KV.prefix('secret'), {
        options: { version: '2' },
        fixed: true,
      }),
      // Fixed too: the KMS API's keys and the transit-key rotator's are transit/'s keys.
      entry('transit/', 'transit', 'encryption as a service', TRANSIT.prefix, { fixed: true }),
      entry('cubbyhole/', 'cubbyhole', 'per-token private secret storage', null, {
        fixed: true,
      }),
      entry('sys/', 'system', 'system endpoints', null, { fixed: true }),
      entry('auth/token/', 'token', 'token based credentials', null, { fixed: true }),
      entry('auth/approle/', 'approle', 'AppRole for machines', APPROLE.prefix),
    ],
  };
}

/** The options a KV mount is stored with: `version` `1` or `2` (1 when not given). */
function kvOptions(options: Readonly<Record<string, string>> | null | undefined) {
  // As Vault: a `kv` mount without a version is version 1.
  const version = options?.version ?? '1';
  if (version !== '1' && version !== '2') throw invalid('options.version must be 1 or 2');
  return { ...options, version };
}

/**
 * Creates the mount table over the barrier.
 *
 * @example
 * ```ts
 * const mounts = createMountTable(barrier);
 * await mounts.load();
 * await mounts.enable({ path: 'kv1/', type: 'kv', options: { version: '1' } });
 * ```
 */
export function createMountTable(
  barrier: Barrier,
  hooks: readonly MountDataHooks[] = [],
): MountTable {
  const storage = barrierView(barrier, MOUNT_TABLE.prefix);
  const cache = createFeedCache<readonly MountEntry[]>(storage.changes, {
    prefix: '',
    limit: 1,
  });

  const current = async (): Promise<readonly MountEntry[]> => {
    const cached = cache.get(MOUNT_TABLE.table);
    if (cached !== undefined) return cached;
    const stamp = cache.stamp();
    const entry = await storage.read<StoredTable>(MOUNT_TABLE.table);
    if (entry === undefined) return initialTable().mounts;
    cache.fill(MOUNT_TABLE.table, entry.data.mounts, stamp);
    return entry.data.mounts;
  };

  const tablePath = MOUNT_TABLE.prefix + MOUNT_TABLE.table;

  /**
   * Runs `apply` on the stored table in one transaction of the whole barrier (disabling a mount
   * removes its data in the same one), retried when another writer won.
   */
  const change = <T>(
    apply: (
      mounts: MountEntry[],
      tx: BarrierWriter,
    ) => Promise<{ mounts: MountEntry[]; result: T }>,
  ): Promise<T> =>
    retryOnConflict(() =>
      barrier.transaction(async (tx) => {
        // Read, then replaced at the revision read: a writer that changed the table meanwhile
        // (on any node) makes this a conflict, retried on the fresh table. (No row lock: two
        // writers holding a shared lock on it would deadlock on PostgreSQL.)
        const stored = await tx.read<StoredTable>(tablePath);
        const { mounts, result } = await apply(
          [...(stored?.data.mounts ?? initialTable().mounts)],
          tx,
        );
        if (stored === undefined) await tx.create(tablePath, { mounts });
        else await tx.replace(tablePath, { mounts }, stored.revision);
        return result;
      }),
    );

  const find = (mounts: readonly MountEntry[], path: string) =>
    mounts.find((mount) => mount.path === path);

  /**
   * A path is taken when it equals, nests in, or holds an existing mount (`a/b/` is taken by
   * `a/` and by `a/b/c/`, never by `a/bc/`). `message` words the refusal as Vault does for the
   * operation.
   */
  const refuseTaken = (
    mounts: readonly MountEntry[],
    path: string,
    message: (clash: string) => string,
  ) => {
    const clash = clashingMount(
      path,
      mounts.map((m) => m.path),
    );
    if (clash !== undefined) throw invalid(message(clash));
  };

  return {
    async load() {
      if ((await storage.revision(MOUNT_TABLE.table)) !== undefined) return;
      try {
        await storage.create(MOUNT_TABLE.table, initialTable());
      } catch (err) {
        // Another node wrote it first: theirs is the table.
        if ((await storage.revision(MOUNT_TABLE.table)) === undefined) throw err;
      }
    },
    list: current,
    get: async (path) => find(await current(), path),
    enable: (request) =>
      change(async (mounts) => {
        refuseTaken(mounts, request.path, (clash) => `path is already in use at ${clash}`);
        const uuid = randomUUID();
        const entry: MountEntry = {
          path: request.path,
          type: request.type,
          description: request.description ?? '',
          uuid,
          accessor: accessorOf(request.type),
          options: request.type === 'kv' ? kvOptions(request.options) : (request.options ?? null),
          config: { ...NO_CONFIG, ...request.config },
          storage: MOUNT_DATA.prefix(uuid),
        };
        return { mounts: [...mounts, entry], result: entry };
      }),
    disable: async (path) => {
      const removed = await change<MountEntry | false>(async (mounts, tx) => {
        const mount = find(mounts, path);
        if (mount === undefined) return { mounts, result: false };
        if (mount.fixed === true) throw invalid(`cannot disable ${path}`);
        // Its data goes with it, in the same transaction: a mount enabled later at the same
        // path starts empty.
        if (mount.storage !== null) {
          for (const entry of await tx.listPaths(mount.storage)) await tx.remove(entry);
        }
        for (const hook of hooks) await hook.removed?.(tx, mount, 'transaction');
        return { mounts: mounts.filter((m) => m !== mount), result: mount };
      });
      if (removed === false) return false;
      // A write admitted before the mount was disabled may have landed after the transaction
      // listed the data: what is left is removed too (no request reaches the area any more).
      if (removed.storage !== null) {
        for (const entry of await barrier.listPaths(removed.storage)) await barrier.remove(entry);
      }
      for (const hook of hooks)
        await retryOnConflict(() => hook.removed?.(barrier, removed, 'after') ?? Promise.resolve());
      return true;
    },
    tune: (path, tuning) =>
      change(async (mounts) => {
        const index = mounts.findIndex((m) => m.path === path);
        const mount = mounts[index];
        if (mount === undefined) throw invalid(`no mount at ${path}`);
        let options = mount.options;
        if (tuning.options !== undefined) {
          const version = tuning.options.version;
          if (mount.type === 'kv' && version !== undefined && version !== mount.options?.version)
            throw invalid('changing the version of a KV mount is not supported');
          options = { ...mount.options, ...tuning.options };
        }
        const tuned: MountEntry = {
          ...mount,
          ...(tuning.description === undefined ? {} : { description: tuning.description }),
          config: { ...mount.config, ...tuning.config },
          options,
        };
        mounts[index] = tuned;
        return { mounts, result: tuned };
      }),
    remount: async (from, to) => {
      const moved = await change(async (mounts, tx) => {
        const index = mounts.findIndex((m) => m.path === from);
        const mount = mounts[index];
        if (mount === undefined) throw invalid(`no mount at ${from}`);
        if (mount.fixed === true) throw invalid(`cannot remount ${from}`);
        if (from.startsWith('auth/') !== to.startsWith('auth/'))
          throw invalid('cannot move a mount between secrets engines and auth methods');
        refuseTaken(
          mounts.filter((m) => m !== mount),
          to,
          (clash) => `path already in use at "${clash}"`,
        );
        const moved: MountEntry = { ...mount, path: to };
        mounts[index] = moved;
        for (const hook of hooks) await hook.moved?.(tx, moved, from, 'transaction');
        return { mounts, result: moved };
      });
      // What a writer admitted before the move wrote at the old path after it follows too.
      for (const hook of hooks)
        await retryOnConflict(
          () => hook.moved?.(barrier, moved, from, 'after') ?? Promise.resolve(),
        );
      return moved;
    },
    clear: () => cache.clear(),
  };
}
