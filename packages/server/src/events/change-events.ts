/**
 * Change events of secrets: which secret changed, never what it holds. Published on this node
 * by KV writes and finished rotations, relayed between nodes sharing PostgreSQL
 * (event-relay.ts), answered to long-polls (paths/events.ts) filtered by the caller's ACL.
 *
 * Each node numbers the events it knows (its own and relayed ones) n+1, n+2, … from a random n,
 * in the order it learnt them; an index is meaningful on the node that gave it only. A client that presents
 * an index this node cannot answer from its window (too old, from another node or another
 * process) is told to `resync`: drop what it cached and continue from the current index.
 *
 * @example
 * ```ts
 * const events = createChangeEvents();
 * events.publish({ mount: 'secret', engine: 'kv-2', key: 'app/db', kind: 'write' });
 * const { index } = await events.waitAfter(0, 0); // resync: true, the current index
await events.waitAfter(index, 30_000); // the next events, or none after 30 s
 * ```
 * @module
 */

import { randomInt } from 'node:crypto';

/** What happened to the secret. */
export type ChangeKind = 'write' | 'delete' | 'metadata' | 'rotation';

/** One change: the mount, the engine serving it, the secret's key. No value, no version. */
export interface ChangeEvent {
  /** The mount's path without its `/` (`secret`). */
  readonly mount: string;
  readonly engine: 'kv-1' | 'kv-2';
  /** The secret's key in the mount (`app/db`). */
  readonly key: string;
  readonly kind: ChangeKind;
  /** When it was published, ISO 8601. */
  readonly time: string;
}

/** An event with the index this node gave it. */
export interface IndexedEvent extends ChangeEvent {
  readonly index: number;
}

/** What a wait answers. */
export interface WaitResult {
  /** Present the next wait with this index. */
  readonly index: number;
  /** The index given was not answerable: drop every cached value, continue from `index`. */
  readonly resync: boolean;
  readonly events: readonly IndexedEvent[];
}

/** The change events of one node. */
export interface ChangeEvents {
  /** Publishes a change made on this node (delivered here now, relayed to the other nodes). */
  publish(event: Omit<ChangeEvent, 'time'> & { time?: string }): void;
  /** Delivers a change relayed from another node (not relayed again). */
  deliver(event: ChangeEvent): void;
  /** Called with each change made on this node (the relay stores it for the other nodes). */
  onPublish(listener: (event: ChangeEvent) => void): void;
  /** The newest index. */
  current(): number;
  /**
   * The events after `index` that `keep` accepts; waits up to `waitMs` for one when there is
   * none yet. Ends early (with what there is) when `signal` aborts or {@link close} is called.
   */
  waitAfter(
    index: number,
    waitMs: number,
    keep?: (event: ChangeEvent) => boolean,
    signal?: AbortSignal,
  ): Promise<WaitResult>;
  /**
   * Events may have been missed (the relay could not hear the other nodes for a while): every
   * index given so far is told to `resync`, the waits in progress now.
   */
  resync(): void;
  /** Ends every wait now (on seal): the waiting clients poll again and are refused. */
  close(): void;
  /**
   * Ends every wait now and answers every later one at once (the server is shutting down):
   * a long-poll must not hold the shutdown for its `wait`.
   */
  shutDown(): void;
  /** Whether {@link shutDown} was called. */
  isShutDown(): boolean;
}

/** How many events a node keeps to answer waits (older indexes are told to resync). */
export const EVENT_WINDOW = 4096;

/** Creates a node's change events. `window`: how many to keep (tests use a small one). */
export function createChangeEvents(
  options: { window?: number; clock?: () => number } = {},
): ChangeEvents {
  const window = options.window ?? EVENT_WINDOW;
  if (!Number.isSafeInteger(window) || window < 1)
    throw new RangeError(`the event window must be a whole number of events, at least 1`);
  const clock = options.clock ?? Date.now;
  // The last `held` events (at most `window`), event n in slot n % window: adding one overwrites
  // the oldest instead of moving the others.
  const ring: (IndexedEvent | undefined)[] = new Array(window);
  let held = 0;
  // A random start: an index given by another node (or before a restart) is almost never in
  // this node's window, so it is told to resync rather than answered from the wrong series.
  let last = randomInt(1, 2 ** 40);
  const waiters = new Set<() => void>();
  const closers = new Set<() => void>();
  const publishListeners: ((event: ChangeEvent) => void)[] = [];
  let shutDown = false;

  const add = (event: ChangeEvent) => {
    last += 1;
    ring[last % window] = { ...event, index: last };
    if (held < window) held += 1;
    if (waiters.size > 0) for (const wake of [...waiters]) wake();
  };

  const answer = (index: number, keep: (event: ChangeEvent) => boolean): WaitResult => {
    const oldest = last - held + 1;
    // 0 (first poll), an index ahead of ours (another node, a restart) or one older than the
    // window: nothing can be said of what happened since, so the client drops its cache.
    if (!Number.isSafeInteger(index) || index <= 0 || index > last || index < oldest - 1)
      return { index: last, resync: true, events: [] };
    const events: IndexedEvent[] = [];
    for (let n = index + 1; n <= last; n++) {
      const event = ring[n % window] as IndexedEvent;
      if (keep(event)) events.push(event);
    }
    return { index: last, resync: false, events };
  };

  return {
    publish(event) {
      const full: ChangeEvent = { ...event, time: event.time ?? new Date(clock()).toISOString() };
      add(full);
      for (const listener of publishListeners) listener(full);
    },
    deliver: add,
    onPublish(listener) {
      publishListeners.push(listener);
    },
    current: () => last,
    async waitAfter(index, waitMs, keep = () => true, signal) {
      let result = answer(index, keep);
      if (result.resync || result.events.length > 0 || waitMs <= 0 || signal?.aborted || shutDown)
        return result;
      let from = index;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(onEvent);
          signal?.removeEventListener('abort', done);
          closers.delete(done);
          resolve();
        };
        const onEvent = () => {
          result = answer(from, keep);
          // Events this caller may not see advance nothing it can observe: keep waiting.
          if (result.resync || result.events.length > 0) done();
          else from = result.index;
        };
        const timer = setTimeout(done, waitMs);
        waiters.add(onEvent);
        closers.add(done);
        signal?.addEventListener('abort', done);
      });
      return answer(index, keep);
    },
    resync() {
      // An empty window one index past the last: every index given so far is older than it.
      ring.fill(undefined);
      held = 0;
      last += 1;
      for (const wake of [...waiters]) wake();
    },
    close() {
      for (const done of [...closers]) done();
    },
    shutDown() {
      shutDown = true;
      for (const done of [...closers]) done();
    },
    isShutDown: () => shutDown,
  };
}
