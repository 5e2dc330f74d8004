import { randomBytes } from 'node:crypto';
import type { Barrier } from '../barrier/barrier.js';
import { barrierView } from '../barrier/barrier-view.js';
import { TRANSIT } from '../storage/layout.js';

/**
 * One use of a transit key: what, whether it worked, which request and the token's display name.
 * Never data, and no token accessor: an accessor is actionable (`lookup-accessor`,
 * `revoke-accessor`), while `request_id` finds the request's audit entry, where the accessor is
 * HMAC'd under the sink's key (match a known one with `sys/audit-hash/<sink>`).
 */
export interface KeyUsageEntry {
  readonly time: string;
  readonly operation: string;
  readonly success: boolean;
  readonly version?: number;
  readonly display_name: string;
  readonly request_id: string;
}

/**
 * The per-key usage log of transit: who used a key, for what, and whether it worked.
 *
 * @example
 * ```ts
 * usage.record('orders', { operation: 'encrypt', success: true, display_name: 'token', request_id });
 * const recent = await usage.read('orders', 20);
 * ```
 */
export interface UsageLog {
  /** Buffers one entry for key `name` (written with the next flush; never blocks a request). */
  record(name: string, entry: Omit<KeyUsageEntry, 'time'>): void;
  /** The most recent `limit` entries for `name` (default 100), oldest first, from every node. */
  read(name: string, limit?: number): Promise<KeyUsageEntry[]>;
  /** Writes what is buffered (before a seal or shutdown). */
  flush(): Promise<void>;
  /** Removes a deleted key's log. */
  forget(name: string): Promise<void>;
}

/** Only the fields an entry shows (segments written before accessors were dropped held one). */
const shown = ({ time, operation, success, version, display_name, request_id }: KeyUsageEntry) => ({
  time,
  operation,
  success,
  ...(version === undefined ? {} : { version }),
  display_name,
  request_id,
});
const MAX_SEGMENTS = 100;

/**
 * The per-key usage log. Entries are buffered per node and written as one storage entry per key
 * every `flushMs` (or every 200 entries), so logging adds no write to a request. The oldest
 * segments beyond 100 per key are dropped. Entries a node buffered when it crashed are lost; the
 * audit log (written before every response) remains the complete record.
 *
 * @example
 * ```ts
 * const usage = createUsageLog(barrier);
 * usage.record('orders', { operation: 'encrypt', success: true, ... });
 * ```
 */
export function createUsageLog(
  barrier: Barrier,
  options: {
    flushMs?: number;
    now?: () => Date;
    /**
     * Whether the mount the log belongs to is still enabled, asked before each write: the
     * buffer of a disabled mount is dropped, not written into the area its disable removed.
     */
    mounted?: () => Promise<boolean>;
  } = {},
  area: string = TRANSIT.prefix,
): UsageLog {
  // Usage segments only: `<key>/<time>-<random>` inside the mount's transit area.
  const storage = barrierView(barrier, `${area}${TRANSIT.usage}`);
  const now = options.now ?? (() => new Date());
  const buffers = new Map<string, KeyUsageEntry[]>();
  let timer: NodeJS.Timeout | undefined;

  const flushKey = async (name: string): Promise<void> => {
    const entries = buffers.get(name);
    if (entries === undefined || entries.length === 0) return;
    buffers.delete(name);
    if (options.mounted !== undefined && !(await options.mounted())) return;
    await storage.create(
      `${name}/${now().toISOString()}-${randomBytes(4).toString('hex')}`,
      entries,
    );
    const segments = await storage.listPaths(`${name}/`);
    for (const old of segments.slice(0, Math.max(0, segments.length - MAX_SEGMENTS)))
      await storage.remove(old);
  };

  const flush = async (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    for (const name of [...buffers.keys()]) await flushKey(name).catch(() => {});
  };

  return {
    record(name: string, entry: Omit<KeyUsageEntry, 'time'>): void {
      const list = buffers.get(name) ?? [];
      list.push({ time: now().toISOString(), ...entry });
      buffers.set(name, list);
      if (list.length >= 200) void flushKey(name).catch(() => {});
      else timer ??= setTimeout(() => void flush(), options.flushMs ?? 2000).unref();
    },
    /** The most recent `limit` entries for `name`, oldest first, from every node. */
    async read(name: string, limit = 100): Promise<KeyUsageEntry[]> {
      const stored: KeyUsageEntry[] = [];
      for (const path of await storage.listPaths(`${name}/`)) {
        stored.push(...((await storage.read<KeyUsageEntry[]>(path))?.data ?? []));
      }
      return [...stored, ...(buffers.get(name) ?? [])]
        .sort((a, b) => a.time.localeCompare(b.time))
        .slice(-limit)
        .map(shown);
    },
    /** Writes what is buffered (before a seal or shutdown). */
    flush,
    /** Removes a deleted key's log. */
    async forget(name: string): Promise<void> {
      buffers.delete(name);
      for (const path of await storage.listPaths(`${name}/`)) await storage.remove(path);
    },
  };
}
