import { randomBytes } from 'node:crypto';
import type { Barrier } from '../barrier/barrier.js';
import { barrierView } from '../barrier/barrier-view.js';
import { EVENTS } from '../storage/layout.js';
import type { ChangeEvent, ChangeEvents } from './change-events.js';

/** How often a node looks for the other nodes' events (the delivery bound is about this). */
export const RELAY_POLL_MS = 250;
/** How long a relayed event stays stored: a node that misses it for longer resyncs its waits. */
export const RELAY_KEEP_MS = 60_000;
/**
 * How far back a poll looks again, for events written with an earlier time that committed
 * after the last poll (a slow transaction, clocks of nodes a little apart).
 */
const RELAY_OVERLAP_MS = 10_000;

/** The relay of one node. */
export interface EventRelay {
  /** Starts polling (on unseal). */
  start(): void;
  /** Stops polling (before seal). */
  stop(): void;
  /** One poll now (tests; the timer calls it). */
  poll(): Promise<void>;
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
 * Relays change events between nodes sharing PostgreSQL through storage: each event published
 * on this node is written behind the barrier at `sys/events/relay/<ms>-<node>-<n>`; every
 * {@link RELAY_POLL_MS} each node lists the entries of the seconds of the last
 * {@link RELAY_OVERLAP_MS} (one prefix per second, so a poll reads the recent events only, not
 * all those kept), delivers the ones of other nodes it has not seen, and drops the entries of
 * the seconds that passed out of {@link RELAY_KEEP_MS} since its last poll (all older ones at
 * its first poll). An event written on node A reaches waits on node B within one poll
 * interval plus a storage round trip (docs/server-api.md states the bound).
 *
 * Storage-backed rather than LISTEN/NOTIFY: it needs no connection of its own outside the
 * pool, works through any PostgreSQL proxy, and the secret's name stays behind the barrier.
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
  options: { clock?: () => number; pollMs?: number; onError?: (error: Error) => void } = {},
): EventRelay {
  const view = barrierView(barrier, EVENTS.prefix);
  const clock = options.clock ?? Date.now;
  const pollMs = options.pollMs ?? RELAY_POLL_MS;
  const node = randomBytes(8).toString('hex');
  let counter = 0;
  /** Keys delivered or written here, with their time, forgotten once out of the overlap. */
  const seen = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let startedAt = 0;
  /** The last second whose expired entries this node dropped (-1: none yet, drop all). */
  let droppedThrough = -1;

  events.onPublish((event) => {
    if (timer === undefined) return; // sealed: nothing to relay through
    counter += 1;
    const path = key(clock(), node, counter);
    seen.set(path, clock());
    view.write(path, event).catch((err) => options.onError?.(err as Error));
  });

  const pollOnce = async () => {
    const now = clock();
    const since = Math.max(startedAt, now - RELAY_OVERLAP_MS);
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

  const poll = async () => {
    running ??= pollOnce().finally(() => {
      running = undefined;
    });
    return running;
  };

  return {
    start() {
      if (timer !== undefined) return;
      // Events older than this start were missed: the waits of this node begin after it.
      startedAt = clock();
      droppedThrough = -1;
      timer = setInterval(() => {
        poll().catch((err) => options.onError?.(err as Error));
      }, pollMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
    poll,
  };
}
