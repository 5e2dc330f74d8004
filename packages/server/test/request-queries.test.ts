/**
 * How many storage queries each kind of admitted request makes: a count, not a time, so a
 * change to the request path's round trips is a visible diff. The budgets are what the path
 * does with warm caches: the token, its parent, the policies, the mount table and KV metadata
 * are served from caches the storage's change feed invalidates (storage/NOTES.md), so a
 * lookup-self reads nothing, nor does a KV read (the version's entry is kept sealed, as stored,
 * and decrypted per read: kv-engine.ts), a KV write its transaction
 * (begin, version, metadata, commit: the mount's settings and the key's metadata come from the
 * caches — a new key's absence is read once, by the check that decides create or update, and
 * the metadata a write commits is kept for the next; a node alone stores no change-event relay
 * entry: events/event-relay.ts); transit encrypt reads nothing (its key is cached and its
 * counter slots are reserved in blocks). SQLite's `begin` and `commit` count as queries too,
 * though concurrent writes share them (storage/group-commit.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from './harness.js';
import { countRequestQueries, type RequestQueries } from './query-count.js';

/** Requests of each kind, after a first one that fills the caches. */
const ROUNDS = 10;

/**
 * The most queries a warm request of each kind may make, on SQLite and PostgreSQL alike except
 * where one is named: on PostgreSQL the metadata a write commits is not kept for the next write,
 * because its own notification reaches the node's feed as a second change (storage/NOTES.md).
 */
const BUDGET = {
  'authenticated no-op (GET auth/token/lookup-self)': 0,
  'KV v2 read': 0,
  'KV v2 write of a new key': 5,
  'KV v2 write of an existing key': { sqlite: 4, postgres: 5 },
  'transit encrypt': 0,
} as const;

describe.each(await storageKinds())('storage queries per request on %s', (kind) => {
  let server: TestServer;
  let queries: RequestQueries;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer(kind);
    queries = countRequestQueries(server.server);
    await server.policy('app', {
      'secret/data/*': ['read', 'update', 'create'],
      'transit/encrypt/*': ['update'],
    });
    token = await server.token({ policies: ['app'] });
    expect((await server.request('POST', 'transit/keys/k')).status).toBeLessThan(300);
    await server.request('POST', 'secret/data/read', { body: { data: { a: 'b' } } });
  });
  afterAll(() => server.close());

  /** The query counts of `ROUNDS` warm requests. */
  const counts = async (method: string, path: (n: number) => string, body?: unknown) => {
    const send = async (n: number) => {
      const answer = await server.request(method, path(n), {
        token,
        ...(body === undefined ? {} : { body }),
      });
      expect(answer.status).toBeLessThan(300);
    };
    await send(-1);
    const result: number[] = [];
    for (let n = 0; n < ROUNDS; n++) result.push((await queries.during(() => send(n))).length);
    return result;
  };

  it('shares round trips between concurrent requests (PostgreSQL), never adds any', async () => {
    const concurrent = 16;
    const sql = await queries.during(() =>
      Promise.all(
        Array.from({ length: concurrent }, async () => {
          const answer = await server.request('GET', 'secret/data/read', { token });
          expect(answer.status).toBe(200);
        }),
      ),
    );
    process.stderr.write(
      `[queries] ${kind} ${concurrent} concurrent KV v2 reads: ${sql.length} queries\n`,
    );
    expect(sql.length).toBeGreaterThan(0);
    // Concurrent first uses may each refill the two cache entries a read uses (the key's
    // metadata, which the write before dropped, and the version's sealed entry).
    expect(sql.length).toBeLessThanOrEqual(concurrent * (BUDGET['KV v2 read'] + 2));
  });

  it('stays within the budget of each kind of request', async () => {
    const measured: Record<keyof typeof BUDGET, number[]> = {
      'authenticated no-op (GET auth/token/lookup-self)': await counts(
        'GET',
        () => 'auth/token/lookup-self',
      ),
      'KV v2 read': await counts('GET', () => 'secret/data/read'),
      'KV v2 write of a new key': await counts('POST', (n) => `secret/data/w${n}`, {
        data: { p: 'x' },
      }),
      'KV v2 write of an existing key': await counts('POST', () => 'secret/data/again', {
        data: { p: 'x' },
      }),
      'transit encrypt': await counts('POST', () => 'transit/encrypt/k', {
        plaintext: 'aGVsbG8=',
      }),
    };
    for (const [name, values] of Object.entries(measured)) {
      // The typical request: a cache refilled by a background change may add one now and then.
      const median = [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
      process.stderr.write(`[queries] ${kind} ${name}: ${median} (${values.join(',')})\n`);
    }
    for (const [name, values] of Object.entries(measured)) {
      const median = [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
      const budget = BUDGET[name as keyof typeof BUDGET];
      expect(median, name).toBeLessThanOrEqual(typeof budget === 'number' ? budget : budget[kind]);
    }
  });
});
