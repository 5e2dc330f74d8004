import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { startServer } from '../server.js';

const CAS_MISMATCH = 'check-and-set parameter did not match the current version';

describe.each(await storageKinds())('concurrent KV writes on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => {
    await s.close();
  });

  it('200 concurrent check-and-set writes: exactly one wins each version, the rest get the CAS error', async () => {
    await s.request('POST', 'secret/metadata/race/cas', { body: { max_versions: 100 } });
    const winnerOf: number[] = [];
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          s.request('POST', 'secret/data/race/cas', {
            body: { data: { writer: i, round }, options: { cas: round } },
          }),
        ),
      );
      const winners = results.filter((r) => r.status === 200);
      expect(winners).toHaveLength(1);
      expect(winners[0]?.body.data.version).toBe(round + 1);
      for (const loser of results.filter((r) => r.status !== 200)) {
        expect(loser).toMatchObject({ status: 400, body: { errors: [CAS_MISMATCH] } });
      }
      // The stored version holds the winning request's data, not some loser's.
      const winner = results.findIndex((r) => r.status === 200);
      winnerOf.push(winner);
      const stored = await s.request('GET', 'secret/data/race/cas');
      expect(stored.body.data.data).toEqual({ writer: winner, round });
    }
    for (const [round, winner] of winnerOf.entries()) {
      const version = await s.request('GET', `secret/data/race/cas?version=${round + 1}`);
      expect(version.body.data.data).toEqual({ writer: winner, round });
    }
  });

  it('200 concurrent writes without check-and-set: every write gets its own version, none is lost', async () => {
    await s.request('POST', 'secret/metadata/race/plain', { body: { max_versions: 500 } });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        s.request('POST', 'secret/data/race/plain', { body: { data: { writer: i } } }),
      ),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const versions = results.map((r) => r.body.data.version as number).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const writers = new Set<number>();
    for (let v = 1; v <= 200; v++) {
      writers.add(
        (await s.request('GET', `secret/data/race/plain?version=${v}`)).body.data.data.writer,
      );
    }
    expect(writers.size).toBe(200);
  });

  it('read-modify-write counters with check-and-set retries lose no increment', async () => {
    await s.request('POST', 'secret/data/race/counter', {
      body: { data: { n: 0 }, options: { cas: 0 } },
    });
    const increment = async () => {
      for (;;) {
        const current = await s.request('GET', 'secret/data/race/counter');
        const { n } = current.body.data.data as { n: number };
        const written = await s.request('POST', 'secret/data/race/counter', {
          body: { data: { n: n + 1 }, options: { cas: current.body.data.metadata.version } },
        });
        if (written.status === 200) return;
        expect(written.body.errors).toEqual([CAS_MISMATCH]);
      }
    };
    await Promise.all(Array.from({ length: 40 }, increment));
    expect((await s.request('GET', 'secret/data/race/counter')).body.data.data).toEqual({ n: 40 });
  });
});

describe.runIf((await storageKinds()).includes('postgres'))(
  'two server nodes on one PostgreSQL',
  () => {
    it('settle concurrent check-and-set writes through storage revisions, not in-process locks', async () => {
      const a = await startTestServer('postgres');
      const b = await startServer({ storage: a.storage.location, port: 0, logLevel: 'silent' });
      try {
        expect((await send(b.url, 'GET', 'sys/health')).status).toBe(503);
        const unseal = await send(b.url, 'POST', 'sys/unseal', {
          body: { key: a.server.unsealKey },
        });
        expect(unseal.body.sealed).toBe(false);
        for (let round = 0; round < 3; round++) {
          const results = await Promise.all(
            Array.from({ length: 100 }, (_, i) =>
              send(i % 2 === 0 ? a.url : b.url, 'POST', 'secret/data/nodes/x', {
                token: 'root',
                body: { data: { i }, options: { cas: round } },
              }),
            ),
          );
          expect(results.filter((r) => r.status === 200)).toHaveLength(1);
          expect(results.filter((r) => r.status === 400)).toHaveLength(99);
        }
        const fromB = await send(b.url, 'GET', 'secret/data/nodes/x', { token: 'root' });
        expect(fromB.body.data.metadata.version).toBe(3);
      } finally {
        await b.close();
        await a.close();
      }
    });
  },
);
