import type { ChangeFeed } from './change-feed.js';

/**
 * Decoded entries of one storage area, kept while the change feed says nothing changed them.
 * Keys are relative to `prefix`, itself relative to the feed's area (a barrier view's feed
 * speaks in the view's keys). A fill is kept only if the feed was
 * live and nothing in the area changed since the read began (`stamp`), so a read that raced a
 * write never puts the old entry back.
 */
export interface FeedCache<V> {
  /** The cached value of `key`; undefined when absent or while the feed is not live. */
  get(key: string): V | undefined;
  /** Taken before a read from storage; passed to `fill`. */
  stamp(): number;
  /** Keeps `value` for `key` unless the area changed (or the feed was lost) since `stamp`. */
  fill(key: string, value: V, stamp: number): void;
  /** Drops `key` (a conflict showed the cached entry to be old). */
  drop(key: string): void;
  /** Drops everything (after a seal). */
  clear(): void;
  /** Stops following the feed. */
  detach(): void;
}

/** Options of {@link createFeedCache}. */
export interface FeedCacheOptions {
  /** The part of the feed's area whose changes drop entries (keys are relative to it). */
  readonly prefix: string;
  /** The most entries kept; the oldest goes first. */
  readonly limit: number;
}

/**
 * A cache of decoded entries of `prefix`, invalidated by `feed`.
 *
 * @example
 * ```ts
 * const cache = createFeedCache<MountEntry[]>(mountStorage.changes, { prefix: '', limit: 1 });
 * const stamp = cache.stamp();
 * cache.fill('table', await read(), stamp);
 * ```
 */
export function createFeedCache<V>(feed: ChangeFeed, options: FeedCacheOptions): FeedCache<V> {
  const entries = new Map<string, V>();
  // Bumped by every change in the area, every reset and every clear.
  let generation = 0;
  const clear = () => {
    generation += 1;
    entries.clear();
  };
  const detach = feed.listen({
    changed(path) {
      if (!path.startsWith(options.prefix)) return;
      generation += 1;
      entries.delete(path.slice(options.prefix.length));
    },
    reset: clear,
  });
  return {
    get: (key) => (feed.live ? entries.get(key) : undefined),
    stamp: () => (feed.live ? generation : -1),
    fill(key, value, stamp) {
      if (stamp !== generation || !feed.live) return;
      entries.delete(key);
      if (entries.size >= options.limit) entries.delete(entries.keys().next().value as string);
      entries.set(key, value);
    },
    drop(key) {
      generation += 1;
      entries.delete(key);
    },
    clear,
    detach,
  };
}
