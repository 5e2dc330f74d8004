import { hash } from 'node:crypto';

/**
 * What the feed carries for a storage path: 128 bits of its SHA-256, in hex. Notifications on
 * PostgreSQL reach any role that may connect to the database and LISTEN, so they name no path
 * (a KV key, a token accessor); a cache computes the digests of the keys it holds.
 *
 * @example
 * ```ts
 * pathDigest('sys/policy/app'); // 32 hex digits
 * ```
 */
export function pathDigest(path: string): string {
  return hash('sha256', path, 'hex').slice(0, 32);
}

/** Told of committed changes to storage entries (see {@link ChangeFeed}). */
export interface ChangeListener {
  /** The entry whose full storage path has this {@link pathDigest} was written or removed. */
  changed(digest: string): void;
  /** Anything may have changed (the feed was lost, re-established, or a path was too long). */
  reset(): void;
}

/**
 * Committed storage changes, for the caches in front of storage: every write this node commits,
 * and (PostgreSQL) every write another node commits, reaches the listeners. While the feed is
 * not `live` a missed change is possible, so caches are neither served nor filled
 * (`storage/NOTES.md`, "The cache epoch").
 */
export interface ChangeFeed {
  /** Whether a cache may be served and filled now: every committed change will reach it. */
  readonly live: boolean;
  /** The storage prefix this feed's `committed` paths are relative to ('' for the storage). */
  readonly area: string;
  /** How many changes this process has been told of so far (a stamp for `changedSince`). */
  position(): number;
  /**
   * Whether the entry with this digest may have changed after `position`: true when it did, or
   * after a reset, or when the record of changes that far back was let go. With `own` 1, one
   * change is allowed: the caller's own write, already reported (`committed`) — a second change,
   * from anyone, still counts.
   */
  changedSince(digest: string, position: number, own?: 0 | 1): boolean;
  /**
   * The PostgreSQL channel the entry store notifies in each writing statement (undefined: the
   * feed is in process only, SQLite).
   */
  readonly channel: string | undefined;
  /** Adds a listener; the function returned removes it. */
  listen(listener: ChangeListener): () => void;
  /** Tells this process's listeners of writes that committed (called by the entry store). */
  committed(paths: readonly string[]): void;
  /**
   * Resolves once every node listening on the same storage has applied the changes committed
   * before the call (at once in process; on PostgreSQL, bounded by the settle timeout).
   */
  settle(): Promise<void>;
  /** Stops listening; the feed is never live again. */
  close(): Promise<void>;
  /** The other nodes on this storage, for the change-event relay (events/event-relay.ts). */
  readonly peers: FeedPeers;
}

/**
 * The other nodes of a feed, as the change-event relay needs them. `storage` (PostgreSQL):
 * other processes, reached through relay entries in storage, and woken by a notification
 * carrying a fixed marker (no path, no name) when one is written. `process` (SQLite): the
 * servers of this process sharing the feed, handed each event directly; nothing is stored.
 */
export interface FeedPeers {
  readonly reach: 'storage' | 'process';
  /**
   * Whether another node listens on this storage now, or may: a PostgreSQL feed that is not
   * listening cannot tell, and answers true (fail closed: the relay entry is written).
   */
  present(): boolean;
  /**
   * Tells the other nodes: `storage`, that a relay entry was written (sent after its commit);
   * `process`, `message` itself.
   */
  wake(message?: unknown): void;
  /** Calls `listener` when another node wakes this one; the function returned removes it. */
  onWake(listener: (message?: unknown) => void): () => void;
}

/** The peers of a feed no other node shares (SQLite in memory): none, ever. */
const noPeers: FeedPeers = {
  reach: 'process',
  present: () => false,
  wake() {},
  onWake: () => () => {},
};

/** The most recent changes remembered for `changedSince`; older ones count as "maybe changed". */
const REMEMBERED_CHANGES = 4096;

/**
 * The listeners of one feed, and the record of recent changes: each listener is told of every
 * change, one failing listener never keeping the others from being told.
 *
 * @example
 * ```ts
 * const listeners = createListenerSet();
 * const since = listeners.position();
 * listeners.changed(pathDigest('sys/policy/app'));
 * listeners.changedSince(pathDigest('sys/policy/app'), since); // true
 * ```
 */
export function createListenerSet() {
  const listeners = new Set<ChangeListener>();
  let position = 0;
  let forgottenUpTo = 0;
  // Each digest's last two changes (the latest first): enough to tell one change from more.
  const recent = new Map<string, readonly [number, number]>();
  const each = (call: (listener: ChangeListener) => void) => {
    for (const listener of listeners) {
      try {
        call(listener);
      } catch {
        // A listener only drops cache entries; one that throws must not stop the others.
      }
    }
  };
  return {
    add(listener: ChangeListener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    changed(digest: string) {
      position += 1;
      const before = recent.get(digest);
      recent.delete(digest);
      recent.set(digest, [position, before?.[0] ?? 0]);
      if (recent.size > REMEMBERED_CHANGES) {
        const [oldest, [at]] = recent.entries().next().value as [string, readonly [number, number]];
        recent.delete(oldest);
        forgottenUpTo = at;
      }
      each((l) => l.changed(digest));
    },
    reset() {
      position += 1;
      forgottenUpTo = position;
      recent.clear();
      each((l) => l.reset());
    },
    position: () => position,
    changedSince(digest: string, since: number, own: 0 | 1 = 0) {
      if (forgottenUpTo > since) return true;
      const [last, previous] = recent.get(digest) ?? [0, 0];
      return own === 0 ? last > since : previous > since;
    },
  };
}

/**
 * The feed of one process (SQLite, or storage no other node writes): always live, every commit
 * told to the listeners before the write returns.
 *
 * @example
 * ```ts
 * const feed = createLocalChangeFeed();
 * const store = createEntryStore(storage.db, feed);
 * ```
 */
export function createLocalChangeFeed(): ChangeFeed {
  const listeners = createListenerSet();
  return {
    live: true,
    channel: undefined,
    area: '',
    position: listeners.position,
    changedSince: listeners.changedSince,
    listen: listeners.add,
    committed(paths) {
      for (const path of paths) listeners.changed(pathDigest(path));
    },
    settle: async () => {},
    close: async () => {},
    peers: noPeers,
  };
}

/** In-process feeds by SQLite file: two servers of one process on one file share theirs. */
const sharedFeeds = new Map<
  string,
  { feed: ChangeFeed; users: number; wakers: Set<(message?: unknown) => void> }
>();

/**
 * The in-process feed of the SQLite storage `key` (its resolved file), shared by every store of
 * this process on the same file; `close` releases this user's share.
 *
 * @example
 * ```ts
 * const feed = sharedLocalChangeFeed('/var/lib/custos/custos.db');
 * ```
 */
export function sharedLocalChangeFeed(key: string): ChangeFeed {
  let shared = sharedFeeds.get(key);
  if (shared === undefined) {
    shared = { feed: createLocalChangeFeed(), users: 0, wakers: new Set() };
    sharedFeeds.set(key, shared);
  }
  shared.users += 1;
  const { feed, wakers } = shared;
  let closed = false;
  /** This user's own wake listeners: a wake reaches the other users' only. */
  const mine = new Set<(message?: unknown) => void>();
  return {
    get live() {
      return feed.live;
    },
    channel: undefined,
    area: '',
    position: () => feed.position(),
    changedSince: (digest, since, own) => feed.changedSince(digest, since, own),
    listen: (listener) => feed.listen(listener),
    committed: (paths) => feed.committed(paths),
    settle: () => feed.settle(),
    peers: {
      reach: 'process',
      present: () => wakers.size > mine.size,
      wake(message) {
        for (const listener of [...wakers]) {
          if (mine.has(listener)) continue;
          try {
            listener(message);
          } catch {
            // Another server's relay failing must not fail this server's write.
          }
        }
      },
      onWake(listener) {
        // Each registration is its own entry, even for the same function.
        const entry = (message?: unknown) => listener(message);
        mine.add(entry);
        wakers.add(entry);
        return () => {
          mine.delete(entry);
          wakers.delete(entry);
        };
      },
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const entry of mine) wakers.delete(entry);
      mine.clear();
      const current = sharedFeeds.get(key);
      if (current !== undefined && --current.users === 0) sharedFeeds.delete(key);
    },
  };
}

/**
 * `feed` as seen from the storage area `prefix` (a barrier view's): `committed` paths and the
 * `area` are relative to it; `close` leaves `feed` open.
 *
 * @example
 * ```ts
 * const tokensFeed = scopedChangeFeed(barrier.changes, 'auth/token/');
 * ```
 */
export function scopedChangeFeed(feed: ChangeFeed, prefix: string): ChangeFeed {
  return {
    get live() {
      return feed.live;
    },
    channel: feed.channel,
    area: feed.area + prefix,
    position: () => feed.position(),
    changedSince: (digest, since, own) => feed.changedSince(digest, since, own),
    listen: (listener) => feed.listen(listener),
    committed: (paths) => feed.committed(paths.map((path) => prefix + path)),
    settle: () => feed.settle(),
    peers: feed.peers,
    // The feed belongs to the storage: a view of it does not end it.
    close: async () => {},
  };
}
