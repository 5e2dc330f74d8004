import type { Barrier } from '../barrier/barrier.js';

/**
 * KV version 1 for one mount (and the cubbyhole of one token): one unversioned value per key,
 * as Vault's `kv` engine with `options.version=1`. Keys are paths inside the mount
 * (`app/db`); a key and a folder of the same name (`app`, `app/db`) live side by side.
 */
export interface Kv1Engine {
  /** The key's data, when it exists. */
  read(key: string): Promise<Record<string, unknown> | undefined>;
  /** Replaces the key's data (there is one value, no versions). */
  write(key: string, data: Record<string, unknown>): Promise<void>;
  /** Removes the key (nothing to do when it is absent). */
  remove(key: string): Promise<void>;
  /** Immediate children of `folder` (keys, and folders ending in '/'), as Vault lists them. */
  list(folder: string): Promise<string[]>;
}

/** Where a key's value is stored inside the mount's area. */
const DATA = 'data/';

/**
 * Creates KV version 1 on `storage`: the barrier narrowed to the mount's own area.
 *
 * @example
 * ```ts
 * const kv1 = createKv1Engine(barrierView(barrier, mount.storage));
 * await kv1.write('app/db', { password: generated });
 * ```
 */
export function createKv1Engine(storage: Barrier): Kv1Engine {
  return {
    read: async (key) =>
      (await storage.read<{ data: Record<string, unknown> }>(DATA + key))?.data.data,
    write: (key, data) => storage.write(DATA + key, { data }),
    remove: (key) => storage.remove(DATA + key),
    async list(folder) {
      const prefix = folder === '' || folder.endsWith('/') ? folder : `${folder}/`;
      const base = DATA + prefix;
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
