/**
 * The request-path caches of two nodes on one storage (PostgreSQL, or one SQLite file in one
 * process): a change made through one node is served by the other at its next request, with
 * the other's caches warm from before the change; and a node whose change feed is cut
 * (pg_terminate_backend of its LISTEN connection) bypasses its caches until it listens again.
 */
import { POSTGRES_URL } from '@custos/test-support/services';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { feedNamesOf } from '../../src/storage/postgres-change-feed.js';
import { hclPolicy, storageKinds } from '../harness.js';
import { countRequestQueries } from '../query-count.js';
import { until } from '../until.js';
import { twoNodes } from './two-nodes.js';

describe.each(await storageKinds())('caches of two nodes on one %s storage', (kind) => {
  let cluster: Awaited<ReturnType<typeof twoNodes>>;
  beforeAll(async () => {
    cluster = await twoNodes(kind);
  });
  afterAll(() => cluster.close());

  it('a KV write on A is read on B at its next request, B having read the key before', async () => {
    const { request } = cluster;
    for (let round = 1; round <= 5; round++) {
      const value = `v${round}`;
      expect((await request(0, 'POST', 'secret/data/shared', { data: { value } })).status).toBe(
        200,
      );
      const read = await request(1, 'GET', 'secret/data/shared');
      expect(read.body.data.data).toEqual({ value });
      expect(read.body.data.metadata.version).toBe(round);
      // Read twice on B: the second is served from B's caches, still current.
      expect((await request(1, 'GET', 'secret/data/shared')).body.data.data).toEqual({ value });
    }
    expect((await request(0, 'DELETE', 'secret/metadata/shared')).status).toBe(204);
    expect((await request(1, 'GET', 'secret/data/shared')).status).toBe(404);
    // Written again from version 1: the same version paths as before, new values (B keeps
    // version entries sealed between reads; the delete and the writes reach it by the feed).
    for (let round = 1; round <= 2; round++) {
      const value = `again${round}`;
      expect((await request(0, 'POST', 'secret/data/shared', { data: { value } })).status).toBe(
        200,
      );
      const read = await request(1, 'GET', 'secret/data/shared?version=1');
      expect(read.body.data.data).toEqual({ value: 'again1' });
      expect((await request(1, 'GET', 'secret/data/shared')).body.data.data).toEqual({ value });
    }
    expect((await request(0, 'POST', 'secret/destroy/shared', { versions: [1] })).status).toBe(204);
    const destroyed = await request(1, 'GET', 'secret/data/shared?version=1');
    expect(destroyed.body.data.data).toBeNull();
  });

  it('a token revoked on A is refused on B as soon as the revoke returns', async () => {
    const { request, token } = cluster;
    const creator = hclPolicy({ 'auth/token/create': ['update'] });
    expect((await request(0, 'POST', 'sys/policies/acl/creator', { policy: creator })).status).toBe(
      204,
    );
    for (let round = 0; round < 10; round++) {
      const parent = await token(0, { policies: ['creator'] });
      const child = (
        await request(1, 'POST', 'auth/token/create', { policies: ['default'] }, parent)
      ).body.auth.client_token as string;
      // B holds both entries (and A the parent) in its caches.
      for (const t of [parent, child]) {
        expect((await request(1, 'GET', 'auth/token/lookup-self', undefined, t)).status).toBe(200);
        expect((await request(1, 'GET', 'auth/token/lookup-self', undefined, t)).status).toBe(200);
      }
      if (round % 2 === 0) {
        expect((await request(0, 'POST', 'auth/token/revoke', { token: parent })).status).toBe(204);
      } else {
        // Revoking through the token itself: the same guarantee.
        expect((await request(0, 'POST', 'auth/token/revoke-self', {}, parent)).status).toBe(204);
      }
      for (const t of [parent, child])
        expect((await request(1, 'GET', 'auth/token/lookup-self', undefined, t)).status).toBe(403);
    }
  });

  it('a policy changed on A applies on B at its next request', async () => {
    const { request, token } = cluster;
    const put = (rules: Record<string, readonly string[]>) =>
      request(0, 'POST', 'sys/policies/acl/shared', { policy: hclPolicy(rules) });
    expect((await put({ 'secret/data/pol': ['read', 'create', 'update'] })).status).toBe(204);
    const holder = await token(0, { policies: ['shared'] });
    const readOnB = async () =>
      (await request(1, 'GET', 'secret/data/pol', undefined, holder)).status;
    expect((await request(1, 'POST', 'secret/data/pol', { data: { a: '1' } }, holder)).status).toBe(
      200,
    );
    expect(await readOnB()).toBe(200);
    expect(await readOnB()).toBe(200);
    expect((await put({ 'secret/data/pol': ['deny'] })).status).toBe(204);
    expect(await readOnB()).toBe(403);
    expect((await put({ 'secret/data/pol': ['read'] })).status).toBe(204);
    expect(await readOnB()).toBe(200);
    expect((await request(0, 'DELETE', 'sys/policies/acl/shared')).status).toBe(204);
    expect(await readOnB()).toBe(403);
  });

  it('a transit key rotated, then deleted, on A is used as it is now on B', async () => {
    const { request } = cluster;
    const encryptOnB = async () =>
      (await request(1, 'POST', 'transit/encrypt/moving', { plaintext: 'aGVsbG8=' })).body.data
        ?.ciphertext as string | undefined;
    expect((await request(0, 'POST', 'transit/keys/moving')).status).toBeLessThan(300);
    expect(await encryptOnB()).toMatch(/^vault:v1:/);
    expect(await encryptOnB()).toMatch(/^vault:v1:/);
    expect((await request(0, 'POST', 'transit/keys/moving/rotate')).status).toBeLessThan(300);
    expect(await encryptOnB()).toMatch(/^vault:v2:/);
    const config = { deletion_allowed: true };
    expect((await request(0, 'POST', 'transit/keys/moving/config', config)).status).toBeLessThan(
      300,
    );
    expect((await request(0, 'DELETE', 'transit/keys/moving')).status).toBe(204);
    // Gone on B too: encrypting creates a new key (Vault's upsert), at version 1.
    expect(await encryptOnB()).toMatch(/^vault:v1:/);
    expect((await request(1, 'GET', 'transit/keys/moving')).body.data.latest_version).toBe(1);
  });

  it('a mount disabled on A is gone on B at its next request', async () => {
    const { request } = cluster;
    expect((await request(0, 'POST', 'sys/mounts/gone', { type: 'kv-v1' })).status).toBe(204);
    expect((await request(1, 'POST', 'gone/x', { v: '1' })).status).toBe(204);
    expect((await request(1, 'GET', 'gone/x')).body.data).toEqual({ v: '1' });
    expect((await request(0, 'DELETE', 'sys/mounts/gone')).status).toBe(204);
    expect((await request(1, 'GET', 'gone/x')).body.errors[0]).toMatch(/no handler/);
    // Enabled again on A: B serves the new, empty mount.
    expect((await request(0, 'POST', 'sys/mounts/gone', { type: 'kv-v1' })).status).toBe(204);
    expect((await request(1, 'GET', 'gone/x')).status).toBe(404);
  });
});

describe.runIf((await storageKinds()).includes('postgres'))(
  'a node whose change feed connection is killed (PostgreSQL)',
  () => {
    let cluster: Awaited<ReturnType<typeof twoNodes>>;
    let admin: pg.Client;
    /** The backend pid of each node's feed (LISTEN) connection. */
    const feedPid: number[] = [];
    let feedPids: () => Promise<number[]>;
    const node = (i: number) => cluster.nodes[i] as RunningServer;

    beforeAll(async () => {
      admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      // B waits long enough before listening again for the test to see it bypass its caches.
      cluster = await twoNodes(
        'postgres',
        [{}, { changeFeed: { reconnectMs: 4_000 } }],
        async (i, storage) => {
          const schema = storage.raw.kind === 'postgres' ? storage.raw.schema : '';
          const name = feedNamesOf(schema).applicationName;
          feedPids = async () =>
            (
              await admin.query<{ pid: number }>(
                'select pid from pg_stat_activity where application_name = $1',
                [name],
              )
            ).rows.map((r) => r.pid);
          // Nodes start one after the other: the pid new since the last node is this one's.
          const pid = (await feedPids()).find((p) => !feedPid.includes(p));
          if (pid === undefined) throw new Error(`node ${i} has no feed connection`);
          feedPid.push(pid);
        },
      );
    });
    afterAll(async () => {
      await cluster.close();
      await admin.end();
    });

    it('bypasses its caches while it does not listen, serves current data, and caches again once it listens', async () => {
      const { request, token } = cluster;
      const queriesOnB = countRequestQueries(node(1));
      const holder = await token(0, { policies: ['default'] });
      const lookupOnB = (t: string) => request(1, 'GET', 'auth/token/lookup-self', undefined, t);
      expect((await request(0, 'POST', 'secret/data/cut', { data: { v: '1' } })).status).toBe(200);
      expect((await request(1, 'GET', 'secret/data/cut')).body.data.data).toEqual({ v: '1' });
      expect((await lookupOnB(holder)).status).toBe(200);
      // Warm: B answers lookup-self from its caches alone.
      expect(await queriesOnB.during(() => lookupOnB(holder))).toEqual([]);

      // B's LISTEN connection is terminated; A's stays.
      const killed = await admin.query('select pg_terminate_backend($1) as done', [feedPid[1]]);
      expect(killed.rows[0].done).toBe(true);
      await until(() => !node(1).context.barrier.changes.live, 'B to notice');
      expect(await feedPids()).toEqual([feedPid[0]]);

      // Changes made through A now: B is told of none, and serves them all the same.
      expect((await request(0, 'POST', 'secret/data/cut', { data: { v: '2' } })).status).toBe(200);
      expect((await request(1, 'GET', 'secret/data/cut')).body.data.data).toEqual({ v: '2' });
      // Bypassed: the token is read from storage at every request.
      expect((await queriesOnB.during(() => lookupOnB(holder))).length).toBeGreaterThan(0);
      expect((await request(0, 'POST', 'auth/token/revoke', { token: holder })).status).toBe(204);
      expect((await lookupOnB(holder)).status).toBe(403);
      expect(node(1).context.barrier.changes.live).toBe(false);

      // B listens again: its caches start empty, then fill and serve.
      await until(() => node(1).context.barrier.changes.live, 'B listening again');
      expect((await feedPids()).length).toBe(2);
      expect((await request(1, 'GET', 'secret/data/cut')).body.data.data).toEqual({ v: '2' });
      const fresh = await token(0, { policies: ['default'] });
      expect((await lookupOnB(fresh)).status).toBe(200);
      expect(await queriesOnB.during(() => lookupOnB(fresh))).toEqual([]);
      expect((await request(0, 'POST', 'auth/token/revoke', { token: fresh })).status).toBe(204);
      expect((await lookupOnB(fresh)).status).toBe(403);
    });
  },
);
