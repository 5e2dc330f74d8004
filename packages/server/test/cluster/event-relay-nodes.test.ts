/**
 * Change events between nodes (events/event-relay.ts): on PostgreSQL a node alone stores no
 * relay entry, a node that joins is told every event published after its relay started, a
 * relay entry wakes the other nodes at once (the fallback poll is made very long here, so a
 * delivery that waited for it would time out), and the wake-up names nothing; two and three
 * nodes see each other's events, KV writes and revocations. On SQLite (servers of one process
 * on one file) events pass in process: nothing is stored.
 */
import { randomBytes } from 'node:crypto';
import { POSTGRES_URL } from '@custos/test-support/services';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer, StartOptions } from '../../src/server.js';
import { EVENTS } from '../../src/storage/layout.js';
import { feedNamesOf } from '../../src/storage/postgres-change-feed.js';
import {
  createTestStorage,
  type StorageKind,
  send,
  storageKinds,
  type TestStorage,
} from '../harness.js';
import { type InitResult, initOverHttp, startSealedServer, unsealOverHttp } from '../seal.js';
import { until } from '../until.js';

const RELAY = EVENTS.prefix + EVENTS.relay;
const hasPostgres = (await storageKinds()).includes('postgres');
/** A secret name nobody could guess: it must never appear in a notification. */
const canary = () => `canary-${randomBytes(6).toString('hex')}`;
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** An initialised storage and nodes started on it on demand. */
async function clusterOn(kind: StorageKind) {
  const storage: TestStorage = await createTestStorage(kind);
  const first = await startSealedServer(storage.location);
  const init: InitResult = await initOverHttp(first);
  await first.close();
  const nodes: RunningServer[] = [];
  const node = (i: number) => nodes[i] as RunningServer;
  const request = (i: number, method: string, path: string, body?: unknown, token?: string) =>
    send(node(i).url, method, path, {
      token: token ?? init.rootToken,
      ...(body === undefined ? {} : { body }),
    });
  return {
    storage,
    nodes,
    node,
    request,
    /** Starts a node (sealed); `unseal` separately to time what happens in between. */
    start: async (options: Partial<StartOptions> = {}) => {
      const server = await startSealedServer(storage.location, options);
      nodes.push(server);
      return server;
    },
    unseal: async (server: RunningServer) => {
      expect((await unsealOverHttp(server, init.keys)).body.sealed).toBe(false);
    },
    /** The relay entries in storage now. */
    relayEntries: () => node(0).context.barrier.listPaths(RELAY),
    /** Node i's current event index for the root token (the first poll resyncs). */
    indexOf: async (i: number) => {
      const answer = await request(i, 'GET', 'sys/events/kv?wait=0');
      expect(answer.body.data.resync).toBe(true);
      return answer.body.data.index as number;
    },
    /** The next events of node i under `prefix` after `index`, waiting up to 20 s. */
    wait: async (i: number, prefix: string, index: number) => {
      const answer = await request(
        i,
        'GET',
        `sys/events/kv?prefix=${prefix}&index=${index}&wait=20s`,
      );
      expect(answer.status).toBe(200);
      expect(answer.body.data.resync).toBe(false);
      return {
        index: answer.body.data.index as number,
        paths: (answer.body.data.events as { path: string }[]).map((e) => e.path),
      };
    },
    async close() {
      for (const server of nodes) await server.close();
      await storage.cleanup();
    },
  };
}
type Cluster = Awaited<ReturnType<typeof clusterOn>>;

const startedNodes = async (
  cluster: Cluster,
  count: number,
  options: Partial<StartOptions> = {},
) => {
  for (let i = 0; i < count; i++) await cluster.unseal(await cluster.start(options));
};

describe.runIf(hasPostgres)('change events between nodes on PostgreSQL', () => {
  it('a node alone stores no relay entry; with a second node listening it does', async () => {
    const cluster = await clusterOn('postgres');
    try {
      await startedNodes(cluster, 1);
      for (let n = 0; n < 5; n++)
        expect(
          (await cluster.request(0, 'POST', `secret/data/alone/${n}`, { data: { v: 'x' } })).status,
        ).toBe(200);
      expect(await cluster.relayEntries()).toEqual([]);
      await startedNodes(cluster, 1);
      const index = await cluster.indexOf(1);
      const waiting = cluster.wait(1, 'secret/alone/', index);
      expect(
        (await cluster.request(0, 'POST', 'secret/data/alone/joined', { data: { v: 'x' } })).status,
      ).toBe(200);
      expect((await waiting).paths).toEqual(['secret/alone/joined']);
      expect((await cluster.relayEntries()).length).toBeGreaterThan(0);
    } finally {
      await cluster.close();
    }
  });

  it('a node that joins while another writes is told every event published after its relay started', async () => {
    const cluster = await clusterOn('postgres');
    try {
      // A lists the feed connections (its heartbeat) every 30 s only: it can know of B in time
      // only from B's announcement.
      await startedNodes(cluster, 1, { changeFeed: { heartbeatMs: 30_000 } });
      let sent = 0;
      let stop = false;
      /** The number of the first write sent after B's unseal returned (its relay had started). */
      let firstAfter = Number.POSITIVE_INFINITY;
      const writer = async () => {
        while (!stop) {
          const n = sent++;
          const answer = await cluster.request(0, 'POST', `secret/data/join/${n}`, {
            data: { v: 'x' },
          });
          expect(answer.status).toBe(200);
        }
      };
      const writers = [writer(), writer()];
      await new Promise((r) => setTimeout(r, 300));
      const b = await cluster.start();
      const from = b.context.events.current();
      const seen = new Set<string>();
      let at = from;
      await cluster.unseal(b);
      firstAfter = sent;
      await new Promise((r) => setTimeout(r, 1_000));
      stop = true;
      await Promise.all(writers);
      const expected = Array.from(
        { length: sent - firstAfter },
        (_, k) => `join/${firstAfter + k}`,
      );
      expect(expected.length).toBeGreaterThan(5);
      const deadline = Date.now() + 15_000;
      while (!expected.every((key) => seen.has(key)) && Date.now() < deadline) {
        const answer = await b.context.events.waitAfter(at, 1_000);
        expect(answer.resync).toBe(false);
        at = answer.index;
        for (const event of answer.events) seen.add(event.key);
      }
      process.stderr.write(
        `[relay] joiner: ${expected.length} events published after B's relay started, ${seen.size} seen on B in all\n`,
      );
      expect(expected.filter((key) => !seen.has(key))).toEqual([]);
    } finally {
      await cluster.close();
    }
  });

  it('wakes the other node at once: delivery does not wait for the fallback poll, and the wake-up names nothing', async () => {
    const cluster = await clusterOn('postgres');
    const listener = new pg.Client({ connectionString: POSTGRES_URL });
    try {
      // Ten minutes: a delivery that waited for the fallback poll would time out the wait.
      await startedNodes(cluster, 2, { eventRelay: { fallbackPollMs: 600_000 } });
      const schema = cluster.storage.raw.kind === 'postgres' ? cluster.storage.raw.schema : '';
      const payloads: string[] = [];
      await listener.connect();
      listener.on('notification', (message) => payloads.push(message.payload ?? ''));
      await listener.query(`listen "${feedNamesOf(schema).channel}"`);

      const elapsed: number[] = [];
      const writes: number[] = [];
      const names: string[] = [];
      let index = await cluster.indexOf(1);
      for (let round = 0; round < 10; round++) {
        const name = canary();
        names.push(name);
        const waiting = cluster.wait(1, 'secret/wake/', index);
        const started = performance.now();
        expect(
          (await cluster.request(0, 'POST', `secret/data/wake/${name}`, { data: { v: canary() } }))
            .status,
        ).toBe(200);
        writes.push(performance.now() - started);
        const answer = await waiting;
        elapsed.push(performance.now() - started);
        expect(answer.paths).toEqual([`secret/wake/${name}`]);
        index = answer.index;
      }
      process.stderr.write(
        `[relay] PostgreSQL A→B delivery (write sent → B's wait answered), median of 10: ${median(elapsed).toFixed(1)} ms, max ${Math.max(...elapsed).toFixed(1)} ms; the write alone: median ${median(writes).toFixed(1)} ms\n`,
      );
      expect(payloads).toContain('relay');
      for (const payload of payloads) for (const name of names) expect(payload).not.toContain(name);

      // A stream of events on A: B's relay reads are coalesced, not one poll per event. Only B
      // reads the relay here (A publishes alone; the fallback polls are ten minutes apart).
      const reads = { listings: 0, entries: 0 };
      const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
      const original = proto.query;
      proto.query = function counted(this: unknown, ...args: unknown[]) {
        const text = String(
          typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text,
        );
        const values = JSON.stringify(args[1] ?? (args[0] as { values?: unknown })?.values ?? []);
        if (/^\s*select/i.test(text) && values.includes('events/relay/'))
          reads[/ like /i.test(text) ? 'listings' : 'entries'] += 1;
        return original.apply(this, args);
      };
      const count = 200;
      const keys = new Set<string>();
      try {
        const from = cluster.node(1).context.events.current();
        for (let n = 0; n < count; n++) {
          cluster.node(0).context.events.publish({
            mount: 'secret',
            engine: 'kv-2',
            key: `stream/${n}`,
            kind: 'write',
          });
          if (n % 10 === 9) await new Promise((r) => setTimeout(r, 10));
        }
        let at = from;
        const deadline = Date.now() + 20_000;
        while (keys.size < count && Date.now() < deadline) {
          const answer = await cluster.node(1).context.events.waitAfter(at, 1_000);
          at = answer.index;
          for (const event of answer.events) keys.add(event.key);
        }
      } finally {
        proto.query = original;
      }
      process.stderr.write(
        `[relay] ${count} events published on A: B read the relay with ${reads.listings} listings and ${reads.entries} entry reads\n`,
      );
      expect(keys.size).toBe(count);
      // Fewer than one woken poll (three listings) per event.
      expect(reads.listings).toBeLessThan(3 * count);
    } finally {
      await listener.end();
      await cluster.close();
    }
  });

  it('a node whose feed is cut still relays (it cannot tell who listens), and one that cannot hear the others resyncs its waits', async () => {
    const cluster = await clusterOn('postgres');
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    try {
      await admin.connect();
      const schema = cluster.storage.raw.kind === 'postgres' ? cluster.storage.raw.schema : '';
      const { applicationName } = feedNamesOf(schema);
      const feedPids = async () =>
        (
          await admin.query<{ pid: number }>(
            'select pid from pg_stat_activity where application_name = $1',
            [applicationName],
          )
        ).rows.map((r) => r.pid);
      // Each node waits long before listening again, for the test to act while it does not.
      await startedNodes(cluster, 1, { changeFeed: { reconnectMs: 5_000 } });
      const [pidA] = await feedPids();
      await startedNodes(cluster, 1, { changeFeed: { reconnectMs: 5_000 } });
      const pidB = (await feedPids()).find((pid) => pid !== pidA);

      // A's feed cut: A cannot know whether B listens, so it writes the entry; B finds it by
      // its fallback poll (A cannot wake it).
      let index = await cluster.indexOf(1);
      await admin.query('select pg_terminate_backend($1)', [pidA]);
      await until(() => !cluster.node(0).context.barrier.changes.live, 'A to notice');
      const waiting = cluster.wait(1, 'secret/cut/', index);
      expect(
        (await cluster.request(0, 'POST', 'secret/data/cut/a', { data: { v: 'x' } })).status,
      ).toBe(200);
      const answer = await waiting;
      expect(answer.paths).toEqual(['secret/cut/a']);
      index = answer.index;
      await until(() => cluster.node(0).context.barrier.changes.live, 'A listening again');

      // B's feed cut: the other nodes forget B and write nothing for it, so B's waits are told
      // to resync (drop what they cached), at the cut and again once B listens.
      const resyncing = cluster.request(1, 'GET', `sys/events/kv?index=${index}&wait=20s`);
      await admin.query('select pg_terminate_backend($1)', [pidB]);
      const told = await resyncing;
      expect(told.status).toBe(200);
      expect(told.body.data.resync).toBe(true);
      await until(() => cluster.node(1).context.barrier.changes.live, 'B listening again');
      index = await cluster.indexOf(1);
      const after = cluster.wait(1, 'secret/cut/', index);
      expect(
        (await cluster.request(0, 'POST', 'secret/data/cut/b', { data: { v: 'x' } })).status,
      ).toBe(200);
      expect((await after).paths).toEqual(['secret/cut/b']);
    } finally {
      await admin.end();
      await cluster.close();
    }
  });

  it('three nodes: events, KV writes and revocations made on each are seen on the other two', async () => {
    const cluster = await clusterOn('postgres');
    try {
      await startedNodes(cluster, 3);
      const others = (i: number) => [0, 1, 2].filter((j) => j !== i);
      for (const i of [0, 1, 2]) {
        const key = `three/from-${i}`;
        const indexes = await Promise.all(others(i).map((j) => cluster.indexOf(j)));
        const waits = others(i).map((j, k) =>
          cluster.wait(j, 'secret/three/', indexes[k] as number),
        );
        expect(
          (await cluster.request(i, 'POST', `secret/data/${key}`, { data: { from: i } })).status,
        ).toBe(200);
        for (const answer of await Promise.all(waits))
          expect(answer.paths).toEqual([`secret/${key}`]);
        for (const j of others(i)) {
          expect((await cluster.request(j, 'GET', `secret/data/${key}`)).body.data.data).toEqual({
            from: i,
          });
        }
        // A token used on every node (so each caches it), revoked on node i: refused everywhere.
        const created = await cluster.request(i, 'POST', 'auth/token/create', {
          policies: ['default'],
        });
        const token = created.body.auth.client_token as string;
        for (const j of [0, 1, 2])
          expect(
            (await cluster.request(j, 'GET', 'auth/token/lookup-self', undefined, token)).status,
          ).toBe(200);
        expect((await cluster.request(i, 'POST', 'auth/token/revoke', { token })).status).toBe(204);
        for (const j of [0, 1, 2])
          expect(
            (await cluster.request(j, 'GET', 'auth/token/lookup-self', undefined, token)).status,
          ).toBe(403);
      }
    } finally {
      await cluster.close();
    }
  });
});

describe('change events between servers of one process on one SQLite file', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await clusterOn('sqlite');
    await startedNodes(cluster, 2);
  });
  afterAll(() => cluster.close());

  it('are delivered in process, and nothing is stored', async () => {
    for (const [from, to] of [
      [0, 1],
      [1, 0],
    ] as const) {
      const index = await cluster.indexOf(to);
      const waiting = cluster.wait(to, 'secret/local/', index);
      const started = performance.now();
      expect(
        (await cluster.request(from, 'POST', `secret/data/local/${from}`, { data: { v: 'x' } }))
          .status,
      ).toBe(200);
      const written = performance.now() - started;
      expect((await waiting).paths).toEqual([`secret/local/${from}`]);
      process.stderr.write(
        `[relay] SQLite node ${from}→${to}: answered after ${(performance.now() - started).toFixed(1)} ms, the write alone ${written.toFixed(1)} ms\n`,
      );
    }
    expect(await cluster.relayEntries()).toEqual([]);
  });
});
