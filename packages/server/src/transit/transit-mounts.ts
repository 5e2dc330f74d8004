import { CustosError } from '@custos/core/errors';
import type { Barrier } from '../barrier/barrier.js';
import type { MountEntry, MountTable } from '../sys/mount-table.js';
import {
  createTransitStore,
  type TransitStore,
  type TransitStoreOptions,
} from './transit-store.js';
import { createUsageLog, type UsageLog } from './usage-log.js';

/** One transit mount's engine: its keys and their usage log, over the mount's storage area. */
export interface TransitMount {
  readonly transit: TransitStore;
  readonly usage: UsageLog;
  /**
   * Called after a request created entries in the mount's area (a key, a restore, an import,
   * the wrapping key): if the mount was disabled meanwhile, its area is emptied again and the
   * request refused, so a key created while its mount is disabled never outlives the mount.
   * (Written, then the table re-read: either the disable's removal saw the entries, or this
   * re-read sees the disable.)
   */
  readonly settle: () => Promise<void>;
}

/** The transit engine of each transit mount (`transit/` and those enabled through sys/mounts). */
export interface TransitMounts {
  /** The engine of `mount` (built on first use; one per storage area). */
  of(mount: MountEntry): TransitMount;
  /**
   * Rotates the keys due by age on every transit mount of the table; how many rotated. Drops
   * the engines of mounts no longer in the table (run every minute while unsealed).
   */
  rotateDueKeys(): Promise<number>;
  /** Writes every mount's buffered usage entries (before a seal). */
  flush(): Promise<void>;
  /** Forgets cached keys, reservations and wrapping keys of every mount (after a seal). */
  clear(): void;
}

/**
 * Creates the engines of transit mounts over the barrier. Each mount's keys live in its own
 * storage area (`transit/` for the mount the server starts with, the mount's data area for
 * the others), so a key of one mount is no key of another, and disabling a mount removes its
 * keys with its area. `known` gives the engine built already for an area (`transit/`'s, which
 * the KMS API and the transit-key rotator share).
 *
 * @example
 * ```ts
 * const transitMounts = createTransitMounts({ barrier, mounts, known: { 'transit/': { transit, usage } } });
 * const { transit } = transitMounts.of(await mounts.get('other-transit/'));
 * ```
 */
export function createTransitMounts(deps: {
  readonly barrier: Barrier;
  readonly mounts: Pick<MountTable, 'list'>;
  readonly known?: Readonly<Record<string, Omit<TransitMount, 'settle'>>>;
  readonly options?: TransitStoreOptions;
}): TransitMounts {
  const { barrier, mounts } = deps;
  // The known engines' mounts (transit/) are fixed: never disabled, nothing to settle.
  const engines = new Map<string, TransitMount>(
    Object.entries(deps.known ?? {}).map(([area, known]) => [
      area,
      { ...known, settle: () => Promise.resolve() },
    ]),
  );
  /** Whether a transit mount with data area `area` is still in the table. */
  const mounted = async (area: string) =>
    (await mounts.list()).some((m) => m.type === 'transit' && m.storage === area);
  const transitMounts = async () => (await mounts.list()).filter((m) => m.type === 'transit');

  const of = (mount: MountEntry): TransitMount => {
    if (mount.type !== 'transit' || mount.storage === null)
      throw new Error(`mount ${mount.path} is not a transit mount`);
    const area = mount.storage;
    let engine = engines.get(area);
    if (engine === undefined) {
      engine = {
        settle: async () => {
          if (await mounted(area)) return;
          for (const path of await barrier.listPaths(area)) await barrier.remove(path);
          throw new CustosError('ERR_NOT_FOUND', 'the transit mount was disabled');
        },
        transit: createTransitStore(barrier, deps.options ?? {}, area),
        usage: createUsageLog(
          barrier,
          {
            ...(deps.options?.now === undefined ? {} : { now: deps.options.now }),
            mounted: () => mounted(area),
          },
          area,
        ),
      };
      engines.set(area, engine);
    }
    return engine;
  };

  return {
    of,
    async rotateDueKeys() {
      const current = await transitMounts();
      // The engines of mounts disabled since are dropped (their areas are gone).
      const areas = new Set(current.map((m) => m.storage));
      for (const area of engines.keys())
        if (!areas.has(area) && deps.known?.[area] === undefined) engines.delete(area);
      let rotated = 0;
      for (const mount of current) rotated += await of(mount).transit.rotateDueKeys();
      return rotated;
    },
    async flush() {
      for (const engine of engines.values()) await engine.usage.flush();
    },
    clear() {
      for (const engine of engines.values()) engine.transit.clear();
    },
  };
}
