import { type ChangeFeed, pathDigest } from './change-feed.js';

/** Taken before a read from storage, passed to `fill` (undefined: the feed was not live). */
export type FeedStamp = { readonly position: number; readonly local: number } | undefined;

/**
 * Decoded entries of one storage area, kept while the change feed says nothing changed them.
 * Keys are relative to `prefix`, itself relative to the feed's area (a barrier view's feed
 * speaks in the view's keys). A fill is kept only if the feed was live and the entry did not
 * change since the read began (`stamp`), so a read that raced a write never puts the old entry
 * back.
 */
export interface FeedCache<V> {
  /** The cached value of `key`; undefined when absent or while the feed is not live. */
  get(key: string): V | undefined;
  /** Taken before a read from storage; passed to `fill`. */
  stamp(): FeedStamp;
  /** Keeps `value` for `key` unless the entry changed (or the feed was lost) since `stamp`. */
  fill(key: string, value: V, stamp: FeedStamp): void;
  /**
   * Keeps `value`, what this process just wrote to `key` (committed, and reported to the feed
   * before the write returned), unless anything but that write changed the entry (or the feed
   * was lost) since `stamp`, taken before the write began. Saves the read after each write.
   */
  fillWritten(key: string, value: V, stamp: FeedStamp): void;
  /** Drops `key` (a conflict showed the cached entry to be old). */
  drop(key: string): void;
  /** Drops everything (after a seal). */
  clear(): void;
  /** Stops following the feed. */
  detach(): void;
}

/** Options of {@link createFeedCache}. */
export interface FeedCacheOptions {
  /** The part of the feed's area the keys are relative to. */
  readonly prefix: string;
  /** The most entries kept; the oldest goes first. */
  readonly limit: number;
}

/**
 * A cache of decoded entries of `prefix`, invalidated by `feed` (which names changed entries by
 * the digests of their paths).
 *
 * @example
 * ```ts
 * const cache = createFeedCache<MountEntry[]>(mountStorage.changes, { prefix: '', limit: 1 });
 * const stamp = cache.stamp();
 * cache.fill('table', await read(), stamp);
 * ```
 */
export function createFeedCache<V>(feed: ChangeFeed, options: FeedCacheOptions): FeedCache<V> {
  const entries = new Map<string, { value: V; digest: string }>();
  // Keys by the digest of their path. Several keys may share one: a lone surrogate and U+FFFD
  // are one path once UTF-8 encoded (the digest, the database and the barrier's associated
  // data all encode so), so a change of that path drops every key that names it.
  const keysOf = new Map<string, Set<string>>();
  // Bumped by `drop` and `clear`: a read in flight then is not kept.
  let local = 0;
  const remove = (key: string) => {
    const entry = entries.get(key);
    if (entry === undefined) return;
    entries.delete(key);
    const keys = keysOf.get(entry.digest);
    keys?.delete(key);
    if (keys?.size === 0) keysOf.delete(entry.digest);
  };
  const clear = () => {
    local += 1;
    entries.clear();
    keysOf.clear();
  };
  const detach = feed.listen({
    changed(digest) {
      for (const key of keysOf.get(digest) ?? []) remove(key);
    },
    reset() {
      entries.clear();
      keysOf.clear();
    },
  });
  const keep = (key: string, value: V, stamp: FeedStamp, own: 0 | 1) => {
    if (stamp === undefined || stamp.local !== local || !feed.live) return;
    const digest = pathDigest(feed.area + options.prefix + key);
    if (feed.changedSince(digest, stamp.position, own)) return;
    remove(key);
    if (entries.size >= options.limit) remove(entries.keys().next().value as string);
    entries.set(key, { value, digest });
    const keys = keysOf.get(digest);
    if (keys === undefined) keysOf.set(digest, new Set([key]));
    else keys.add(key);
  };
  return {
    get: (key) => (feed.live ? entries.get(key)?.value : undefined),
    stamp: () => (feed.live ? { position: feed.position(), local } : undefined),
    fill: (key, value, stamp) => keep(key, value, stamp, 0),
    fillWritten: (key, value, stamp) => keep(key, value, stamp, 1),
    drop(key) {
      local += 1;
      remove(key);
    },
    clear,
    detach,
  };
}
