import type { Barrier } from '../barrier/barrier.js';
import { barrierView } from '../barrier/barrier-view.js';
import type { MountEntry } from '../sys/mount-table.js';
import { type KvEngine, kvEngineOn } from './kv-engine.js';
import { createKv1Engine, type Kv1Engine } from './kv1-engine.js';

/** The KV engine of each KV mount, built on first use over the mount's storage area. */
export interface KvMounts {
  /** The KV version 2 engine of `mount`. */
  v2(mount: MountEntry): KvEngine;
  /** The KV version 1 engine of `mount`. */
  v1(mount: MountEntry): Kv1Engine;
  /** Forgets what every KV version 2 engine cached (after a seal). */
  clear(): void;
}

/**
 * Creates the engines of KV mounts over the barrier, one per mount storage area (`known` gives
 * engines built already, by area: the one of `kv/secret/` the Secrets Manager API shares, so
 * both hold the same per-key locks).
 *
 * @example
 * ```ts
 * const kvMounts = createKvMounts(barrier, { [KV.prefix('secret')]: kv });
 * kvMounts.v2(mount).read('app/db');
 * ```
 */
export function createKvMounts(
  barrier: Barrier,
  known: Readonly<Record<string, KvEngine>> = {},
): KvMounts {
  const v2 = new Map<string, KvEngine>(Object.entries(known));
  const v1 = new Map<string, Kv1Engine>();
  const areaOf = (mount: MountEntry): string => {
    if (mount.storage === null) throw new Error(`mount ${mount.path} has no storage area`);
    return mount.storage;
  };
  return {
    v2(mount) {
      const area = areaOf(mount);
      let engine = v2.get(area);
      if (engine === undefined) {
        engine = kvEngineOn(barrierView(barrier, area));
        v2.set(area, engine);
      }
      return engine;
    },
    v1(mount) {
      const area = areaOf(mount);
      let engine = v1.get(area);
      if (engine === undefined) {
        engine = createKv1Engine(barrierView(barrier, area));
        v1.set(area, engine);
      }
      return engine;
    },
    clear() {
      for (const engine of v2.values()) engine.clearCache();
    },
  };
}
