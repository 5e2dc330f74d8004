import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Barrier } from '../barrier/barrier.js';
import { barrierView } from '../barrier/barrier-view.js';
import { EVENTS } from '../storage/layout.js';
import type { ChangeEvent, ChangeEvents } from './change-events.js';

/**
 * How often a node reads the relay without being woken (PostgreSQL): the delivery bound when a
 * wake-up notification is missed. Woken, it reads at once.
 */
export const RELAY_FALLBACK_POLL_MS = 1_000;
/** How long a relayed event stays stored: a node that misses it for longer resyncs its waits. */
export const RELAY_KEEP_MS = 60_000;
/**
 * How far back a fallback poll looks again, for events written with an earlier time that
 * committed after the last poll (a slow transaction, clocks of nodes a little apart).
 */
const RELAY_OVERLAP_MS = 10_000;
/**
 * How far back a woken poll looks: the entry that woke it was just written. What it may miss
 * (an entry stamped earlier, committed late) the next fallback poll finds.
 */
const RELAY_WAKE_WINDOW_MS = 2_000;
/**
 * The least time between the starts of two polls when woken: under a stream of writes a node
 * reads the relay at most 40 times a second, not once per event.
 */
const RELAY_WAKE_GAP_MS = 25;

/** The relay of one node. */
export interface EventRelay {
  /** Starts relaying (on unseal). */
  start(): void;
  /** Stops relaying (before seal). */
  stop(): void;
  /**
   * One poll of the entries stored now (tests; the timer and wake-ups call it); `window`: how
   * far back it looks (default the whole overlap, as a fallback poll).
   */
  poll(window?: number): Promise<void>;
}

const key = (ms: number, node: string, n: number) =>
  `${EVENTS.relay}${String(ms).padStart(13, '0')}-${node}-${n}`;
const msOf = (path: string) => Number(path.slice(EVENTS.relay.length, EVENTS.relay.length + 13));
/**
 * The prefix of the entries written in the second `second` (the first ten of the 13 digits):
 * a poll lists the seconds it needs, not every stored entry.
 */
const secondPrefix = (second: number) => `${EVENTS.relay}${String(second).padStart(10, '0')}`;
const secondOf = (ms: number) => Math.floor(ms / 1000);

/** The paths of the entries written from second `from` through second `to`, sorted. */
async function listSeconds(
  view: { listPaths(prefix: string): Promise<string[]> },
  from: number,
  to: number,
): Promise<string[]> {
  const paths: string[] = [];
  for (let second = from; second <= to; second++)
    paths.push(...(await view.listPaths(secondPrefix(second))));
  return paths;
}

/**
 * Relays change events between the nodes of one storage, as its change feed (`feed.peers`,
 * storage/change-feed.ts) reaches them.
 *
 * In process (SQLite: the servers of this process on one file), each event published here is
 * handed to the other servers' relays directly; nothing is stored, nothing polled.
 *
 * Between processes (PostgreSQL), through storage: each event published here while other nodes
 * listen (or may: `feed.peers.present()`) is written behind the barrier at
 * `sys/events/relay/<ms>-<node>-<n>`, then the other nodes are woken (a notification carrying a
 * fixed marker, sent after the entry committed) and read the relay at once. A node alone writes
 * nothing: a node that joins announces itself on the feed (its settle) before its feed goes live
 * and before its relay starts, so every event published after its relay started is written. A
 * node that could not hear the others (its feed lost or re-established: a feed reset) tells its
 * waits to resync, as events of that time may be missed. Every {@link RELAY_FALLBACK_POLL_MS}
 * each node also reads without being woken (a missed notification): it lists the entries of the
 * seconds of the last {@link RELAY_OVERLAP_MS} (one prefix per second, so a poll reads the
 * recent events only, not all those kept), delivers the ones of other nodes it has not seen,
 * and drops the entries of the seconds that passed out of {@link RELAY_KEEP_MS} since its last
 * poll (all older ones at its first poll). A woken poll lists the last
 * {@link RELAY_WAKE_WINDOW_MS} only, and starts at least {@link RELAY_WAKE_GAP_MS} after the
 * poll before it.
 *
 * The event itself stays behind the barrier: a notification can be read by any role that may
 * LISTEN, so it never carries the secret's name.
 *
 * @example
 * ```ts
 * const relay = createEventRelay(barrier, events);
 * relay.start();
 * ```
 */
export function createEventRelay(
  barrier: Barrier,
  events: ChangeEvents,
  options: { clock?: () => number; fallbackPollMs?: number; onError?: (error: Error) => void } = {},
): EventRelay {
  const view = barrierView(barrier, EVENTS.prefix);
  const { peers } = barrier.changes;
  const clock = options.clock ?? Date.now;
  const pollMs = options.fallbackPollMs ?? RELAY_FALLBACK_POLL_MS;
  const node = randomBytes(8).toString('hex');
  let counter = 0;
  /** Keys delivered or written here, with their time, forgotten once out of the overlap. */
  const seen = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  /** A wake-up came while a poll ran (it may have listed before the entry committed). */
  let again = false;
  let startedAt = 0;
  /** The last second whose expired entries this node dropped (-1: none yet, drop all). */
  let droppedThrough = -1;
  /** Ends what `start` subscribed to (wake-ups, feed resets). */
  let unsubscribe: (() => void)[] = [];
  const started = () => unsubscribe.length > 0;

  events.onPublish((event) => {
    if (!started()) return; // sealed: nothing to relay through
    if (!peers.present()) return; // alone: nobody to tell
    if (peers.reach === 'process') {
      peers.wake(event);
      return;
    }
    counter += 1;
    const path = key(clock(), node, counter);
    seen.set(path, clock());
    view.write(path, event).then(
      () => peers.wake(),
      (err) => options.onError?.(err as Error),
    );
  });

  const pollOnce = async (window: number) => {
    const now = clock();
    const since = Math.max(startedAt, now - window);
    const paths = await listSeconds(view, secondOf(since), secondOf(now));
    for (const path of paths) {
      const at = msOf(path);
      if (!(at >= since) || seen.has(path)) continue;
      seen.set(path, now);
      if (path.includes(`-${node}-`)) continue;
      const entry = await view.read<ChangeEvent>(path);
      if (entry !== undefined) events.deliver(entry.data);
    }
    for (const [path, at] of seen) if (at < now - 2 * RELAY_OVERLAP_MS) seen.delete(path);
    // The seconds wholly older than the keep: all stored ones at the first poll, then the
    // ones that passed out of it since the last poll.
    const lastExpired = secondOf(now - RELAY_KEEP_MS) - 1;
    if (lastExpired > droppedThrough) {
      // A node that has not polled for long (its first poll, a pause) lists all of them once.
      const expired =
        droppedThrough < 0 || lastExpired - droppedThrough > 2 * secondOf(RELAY_KEEP_MS)
          ? (await view.listPaths(EVENTS.relay)).filter((p) => secondOf(msOf(p)) <= lastExpired)
          : await listSeconds(view, droppedThrough + 1, lastExpired);
      for (const path of expired) await view.remove(path).catch(() => {}); // maybe dropped already
      droppedThrough = lastExpired;
    }
  };

  /** When the last poll started (monotonic ms). */
  let lastPollAt = Number.NEGATIVE_INFINITY;
  /** One poll, woken ones at least {@link RELAY_WAKE_GAP_MS} after the one before. */
  const pollSpaced = async (window: number, woken: boolean) => {
    const wait = lastPollAt + RELAY_WAKE_GAP_MS - performance.now();
    if (woken && wait > 0) await delay(wait);
    // A wake-up that came before this poll lists is answered by it.
    again = false;
    lastPollAt = performance.now();
    await pollOnce(window);
  };

  const poll = (window = RELAY_OVERLAP_MS, woken = false): Promise<void> => {
    running ??= (async () => {
      try {
        await pollSpaced(window, woken);
        // Woken while it ran: it may have listed before the new entry committed.
        while (again && started()) await pollSpaced(RELAY_WAKE_WINDOW_MS, true);
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  /** Woken: a poll now, or one more after the poll in progress. */
  const woken = () => {
    if (!started()) return;
    if (running !== undefined) {
      again = true;
      return;
    }
    poll(RELAY_WAKE_WINDOW_MS, true).catch((err) => options.onError?.(err as Error));
  };

  return {
    start() {
      if (started()) return;
      if (peers.reach === 'process') {
        unsubscribe = [
          peers.onWake((event) => {
            if (event !== undefined) events.deliver(event as ChangeEvent);
          }),
        ];
        return;
      }
      // Events older than this start were missed: the waits of this node begin after it.
      startedAt = clock();
      droppedThrough = -1;
      again = false;
      timer = setInterval(() => {
        poll().catch((err) => options.onError?.(err as Error));
      }, pollMs);
      timer.unref();
      unsubscribe = [
        () => clearInterval(timer),
        peers.onWake(woken),
        // The feed was lost or re-established: other nodes may have published unheard (a node
        // not listening is not known to them, and they write no entry for it).
        barrier.changes.listen({ changed() {}, reset: () => events.resync() }),
      ];
    },
    stop() {
      for (const end of unsubscribe) end();
      unsubscribe = [];
      timer = undefined;
    },
    poll: (window?: number) => poll(window),
  };
}
