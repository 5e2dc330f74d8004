/**
 * The relay's storage cost: a poll lists the events of its overlap window, not every event kept
 * for a minute, and drops each expired event once. Two relays on one real barrier, with clocks
 * the test moves (the server's own relay is stopped). The barrier is SQLite's, whose servers
 * relay in process; its feed's peers are replaced by ones reached through storage (as on
 * PostgreSQL with another node listening), each relay waking the other.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';
import type { Barrier } from '../barrier/barrier.js';
import type { FeedPeers } from '../storage/change-feed.js';
import { EVENTS } from '../storage/layout.js';
import { createChangeEvents } from './change-events.js';
import { createEventRelay, RELAY_KEEP_MS } from './event-relay.js';

const RELAY = EVENTS.prefix + EVENTS.relay;

describe('event relay', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite');
    server.server.context.eventRelay.stop();
  });
  afterAll(() => server.close());

  it('lists only its window per poll, delivers across nodes, and drops expired events', async () => {
    const barrier = server.server.context.barrier;
    let listed = 0;
    const wakers = new Set<() => void>();
    const woken: string[] = [];
    const peers: FeedPeers = {
      reach: 'storage',
      present: () => true,
      wake: () => {
        woken.push('wake');
      },
      onWake(listener) {
        const entry = () => listener();
        wakers.add(entry);
        return () => wakers.delete(entry);
      },
    };
    const counting: Barrier = {
      ...barrier,
      changes: { ...barrier.changes, peers },
      listPaths: async (prefix: string) => {
        const paths = await barrier.listPaths(prefix);
        listed += paths.length;
        return paths;
      },
    };
    const base = Date.now();
    let offset = 0;
    const clock = () => base + offset;
    const options = { clock, fallbackPollMs: 3_600_000 };
    const [eventsA, eventsB] = [createChangeEvents({ clock }), createChangeEvents({ clock })];
    const a = createEventRelay(counting, eventsA, options);
    const b = createEventRelay(counting, eventsB, options);
    a.start();
    b.start();
    try {
      const change = (key: string) =>
        ({ mount: 'secret', engine: 'kv-2', key, kind: 'write' }) as const;
      for (let i = 0; i < 50; i++) eventsA.publish(change(`old/${i}`));
      await vi.waitFor(async () => expect((await barrier.listPaths(RELAY)).length).toBe(50));
      // Each entry, once written, woke the other nodes.
      await vi.waitFor(() => expect(woken).toHaveLength(50));
      const from = eventsB.current();
      await b.poll(); // the first poll also looks for expired events in all of them
      expect((await eventsB.waitAfter(from, 0)).events).toHaveLength(50);

      // 30 s later: the 50 are kept (under a minute) but out of the poll's window.
      offset = 30_000;
      eventsA.publish(change('new'));
      await vi.waitFor(async () => expect((await barrier.listPaths(RELAY)).length).toBe(51));
      listed = 0;
      const next = eventsB.current();
      await b.poll();
      expect(listed).toBe(1);
      expect((await eventsB.waitAfter(next, 0)).events.map((e) => e.key)).toEqual(['new']);

      // Past the keep: the 50 are dropped, the newer one stays.
      offset = RELAY_KEEP_MS + 3_000;
      await b.poll();
      const left = await barrier.listPaths(RELAY);
      expect(left).toHaveLength(1);
    } finally {
      a.stop();
      b.stop();
    }
  });
});
