/**
 * What the boundary sends when a handler succeeded but its response cannot go out as it is
 * (boundary.ts, the `onSend` hook): a response the caller asked to wrap that cannot be wrapped,
 * and a response the audit log cannot record. Either way the caller gets an error, as JSON, and
 * never the response itself: a secret asked for wrapped must not reach the client in clear, and
 * an answer no audit sink holds is not given (as Vault does). The server keeps serving.
 */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { send, startTestServer, type TestServer } from '../../test/harness.js';

const CANARY = 'boundary-canary-5c1e8d';
const PATH = 'secret/data/handed-out';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serverWithSecret(options: Parameters<typeof startTestServer>[1] = {}) {
  const s: TestServer = await startTestServer('sqlite', options);
  cleanups.push(() => s.close());
  const written = await s.request('POST', PATH, { body: { data: { pin: CANARY } } });
  expect(written.status).toBe(200);
  return s;
}

/** The error answer the boundary substitutes: JSON, an `errors` list, no trace of the secret. */
function expectErrorInsteadOfSecret(answer: Awaited<ReturnType<typeof send>>, status: number) {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json\b/);
  expect(Array.isArray(answer.body?.errors)).toBe(true);
  expect(answer.body.errors.length).toBeGreaterThan(0);
  expect(answer.text).not.toContain(CANARY);
  expect(answer.body.wrap_info ?? null).toBeNull();
}

describe('a response that cannot be wrapped', () => {
  it('is refused, never sent unwrapped; wrapping works again once storage takes writes', async () => {
    const s = await serverWithSecret();
    if (s.storage.raw.kind !== 'sqlite') throw new Error('the test inspects a SQLite file');
    // The storage itself refuses to keep wrapped responses (a real SQLite trigger on the file
    // the server writes), so the wrap fails after the handler has produced the secret.
    const db = new Database(s.storage.raw.file);
    cleanups.push(async () => {
      db.close();
    });
    db.exec(`CREATE TRIGGER refuse_wrapped BEFORE INSERT ON custos_entries
      WHEN NEW.path LIKE 'sys/wrapping/response/%'
      BEGIN SELECT RAISE(ABORT, 'the disk refused the write'); END`);

    const refused = await s.request('GET', PATH, { headers: { 'x-vault-wrap-ttl': '60' } });
    expectErrorInsteadOfSecret(refused, 500);
    // Nothing half-written: no wrapped response, no due entry left to sweep.
    const kept = db
      .prepare(`SELECT count(*) AS n FROM custos_entries WHERE path LIKE 'sys/wrapping/%'`)
      .get() as { n: number };
    expect(kept.n).toBe(0);

    db.exec('DROP TRIGGER refuse_wrapped');
    const wrapped = await s.request('GET', PATH, { headers: { 'x-vault-wrap-ttl': '60' } });
    expect(wrapped.status).toBe(200);
    expect(wrapped.text).not.toContain(CANARY);
    const token = wrapped.body.wrap_info.token as string;
    const unwrapped = await send(s.url, 'POST', 'sys/wrapping/unwrap', { token });
    expect(unwrapped.status).toBe(200);
    expect(unwrapped.body.data.data).toEqual({ pin: CANARY });
  });
});

describe('a response the audit log cannot record', () => {
  it('is replaced by an audit error; the request entry was kept; the next request is served', async () => {
    // A collector that takes every batch except one holding a response entry for `refusedPath`.
    const received: string[] = [];
    let refusedPath: string | undefined;
    const collector = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        const refuse =
          refusedPath !== undefined &&
          body.includes('"type":"response"') &&
          body.includes(`"path":"${refusedPath}"`);
        if (!refuse) received.push(body);
        res.writeHead(refuse ? 503 : 200).end();
      });
    });
    const port = await new Promise<number>((resolve) =>
      collector.listen(0, '127.0.0.1', () => resolve((collector.address() as AddressInfo).port)),
    );
    cleanups.push(() => new Promise<void>((resolve) => collector.close(() => resolve())));
    const s = await serverWithSecret({
      audit: [{ type: 'http', name: 'collector', url: `http://127.0.0.1:${port}/ingest` }],
    });

    refusedPath = PATH;
    const refused = await s.request('GET', PATH);
    expectErrorInsteadOfSecret(refused, 500);
    expect(refused.body.errors).toEqual(['audit log unavailable']);
    const requests = received
      .join('')
      .split('\n')
      .filter((line) => line.includes('"type":"request"') && line.includes(PATH));
    expect(requests.length).toBeGreaterThan(0);

    refusedPath = undefined;
    const served = await s.request('GET', PATH);
    expect(served.status).toBe(200);
    expect(served.body.data.data).toEqual({ pin: CANARY });

    // A response that was not JSON (Prometheus text) is replaced by a JSON error all the same.
    refusedPath = 'sys/metrics';
    const metrics = await s.request('GET', 'sys/metrics?format=prometheus');
    expect(metrics.status).toBe(500);
    expect(metrics.headers.get('content-type')).toMatch(/^application\/json\b/);
    expect(metrics.body).toEqual({ errors: ['audit log unavailable'] });
  });
});
