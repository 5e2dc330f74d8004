/**
 * A node cut off without a TCP reset (issue #16): node B's change feed connection goes through a
 * TCP proxy the test freezes (nothing forwarded either way, nothing closed), so PostgreSQL keeps
 * listing B. The first write on A waits the settle timeout for B; B is then a suspect and the
 * following writes do not wait for it. When the line thaws, B's first read serves the value
 * written meanwhile (never its cached one), and once B answers again A's writes wait for it.
 */
import { POSTGRES_URL } from '@custos/test-support/services';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { pathDigest } from '../../src/storage/change-feed.js';
import { KV } from '../../src/storage/layout.js';
import { feedNamesOf } from '../../src/storage/postgres-change-feed.js';
import { createTestStorage, send, storageKinds, type TestStorage } from '../harness.js';
import { initOverHttp, startSealedServer, unsealOverHttp } from '../seal.js';
import { until } from '../until.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

/**
 * The heartbeat of both nodes: the settle timeout is three, and B's frozen connection is given
 * up after five without an answer, so the line thaws before B notices (the same connection
 * resumes, with everything PostgreSQL sent meanwhile held in the proxy).
 */
const HEARTBEAT_MS = 1_200;
const SETTLE_TIMEOUT_MS = 3 * HEARTBEAT_MS;

/** Resolves to 'timer' if `ms` pass before `work` ends, else to `work`'s end. */
const firstOf = (work: Promise<unknown>, ms: number) =>
  Promise.race([
    work.then(() => 'work' as const),
    new Promise<'timer'>((resolve) => setTimeout(() => resolve('timer'), ms)),
  ]);

describe.runIf((await storageKinds()).includes('postgres'))(
  'a node whose change feed is cut off silently (PostgreSQL)',
  () => {
    let storage: TestStorage;
    let proxy: TcpProxy;
    let admin: pg.Client;
    let rootToken: string;
    let feedName: string;
    const nodes: RunningServer[] = [];
    const node = (i: number) => nodes[i] as RunningServer;
    const request = (i: number, method: string, path: string, body?: unknown) =>
      send(node(i).url, method, path, {
        token: rootToken,
        ...(body === undefined ? {} : { body }),
      });
    const feedPids = async () =>
      (
        await admin.query<{ pid: number }>(
          'select pid from pg_stat_activity where application_name = $1 order by pid',
          [feedName],
        )
      ).rows.map((row) => row.pid);

    beforeAll(async () => {
      storage = await createTestStorage('postgres');
      const schema = storage.raw.kind === 'postgres' ? storage.raw.schema : undefined;
      feedName = feedNamesOf(schema).applicationName;
      admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      const target = new URL(POSTGRES_URL);
      proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
      const viaProxy = new URL(storage.location);
      viaProxy.port = String(proxy.port);
      const first = await startSealedServer(storage.location);
      const init = await initOverHttp(first);
      rootToken = init.rootToken;
      await first.close();
      // A reaches PostgreSQL directly, B through the proxy (its pool and its feed).
      for (const location of [storage.location, viaProxy.toString()]) {
        const started = await startSealedServer(location, {
          changeFeed: { heartbeatMs: HEARTBEAT_MS },
        });
        nodes.push(started);
        expect((await unsealOverHttp(started, init.keys)).body.sealed).toBe(false);
      }
    });
    afterAll(async () => {
      proxy?.thaw();
      for (const started of nodes) await started.close();
      await proxy?.close();
      await admin?.end();
      await storage?.cleanup();
    });

    const write = async (value: string) => {
      const answer = await request(0, 'POST', 'secret/data/moving', { data: { value } });
      expect(answer.status).toBe(200);
    };
    const readOnB = async () => {
      const answer = await request(1, 'GET', 'secret/data/moving');
      return { value: answer.body.data.data.value, version: answer.body.data.metadata.version };
    };
    it('costs one write the settle timeout, then B serves nothing stale and is waited for again', async () => {
      await write('v1');
      // B holds the key's metadata in its caches.
      expect(await readOnB()).toEqual({ value: 'v1', version: 1 });
      expect(await readOnB()).toEqual({ value: 'v1', version: 1 });
      expect(node(1).context.barrier.changes.live).toBe(true);
      const pidsBefore = await feedPids();
      expect(pidsBefore).toHaveLength(2);

      proxy.freeze(feedName);
      // The first write waits for B: half the settle timeout passes before it returns.
      const firstWrite = write('v2');
      expect(await firstOf(firstWrite, SETTLE_TIMEOUT_MS / 2)).toBe('timer');
      await firstWrite;
      // B is a suspect now: five writes all return within one settle timeout.
      const fiveWrites = (async () => {
        for (let version = 3; version <= 7; version++) await write(`v${version}`);
      })();
      expect(await firstOf(fiveWrites, SETTLE_TIMEOUT_MS)).toBe('work');
      // B's lease ran out (its last heartbeat answered was sent before the freeze).
      expect(node(1).context.barrier.changes.live).toBe(false);

      proxy.thaw();
      // The very first read after the line thaws: the value written meanwhile.
      expect(await readOnB()).toEqual({ value: 'v7', version: 7 });
      // The same connection resumed (PostgreSQL listed B all along).
      expect(await feedPids()).toEqual(pidsBefore);

      await until(() => node(1).context.barrier.changes.live, 'B live again');
      expect(await readOnB()).toEqual({ value: 'v7', version: 7 });
      expect(await readOnB()).toEqual({ value: 'v7', version: 7 });
      // A waits for B again: B has applied the change of the key's metadata when A's write
      // returns.
      const metadata = pathDigest(`${KV.prefix('secret')}${KV.meta}moving`);
      const heardOnB: string[] = [];
      const stop = node(1).context.barrier.changes.listen({
        changed: (digest) => heardOnB.push(digest),
        reset: () => heardOnB.push('reset'),
      });
      try {
        await write('v8');
        expect(heardOnB).toContain(metadata);
        expect(heardOnB).not.toContain('reset');
      } finally {
        stop();
      }
      expect(await readOnB()).toEqual({ value: 'v8', version: 8 });
    });
  },
);
