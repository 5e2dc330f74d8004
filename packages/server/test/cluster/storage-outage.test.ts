/**
 * PostgreSQL down or restarted under load: requests fail fast with 503 ERR_STORAGE_UNAVAILABLE
 * (never a 500 with the driver's text, never a hang), the server recovers without a restart
 * when PostgreSQL answers again, and no acknowledged write is lost. The machine's PostgreSQL is
 * never stopped: the node reaches it through a TCP proxy the test cuts.
 */
import { randomBytes } from 'node:crypto';
import {
  dropPostgresSchema,
  POSTGRES_URL,
  requireService,
  uniqueName,
} from '@custos/test-support/services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server.js';
import { type CutMode, startTcpProxy, type TcpProxy } from './tcp-proxy.js';

const pg = await requireService('postgres');

describe.runIf(pg)('PostgreSQL unavailable under load', () => {
  const schema = uniqueName('outage');
  const rootToken = `root-${randomBytes(8).toString('hex')}`;
  let proxy: TcpProxy;
  let server: RunningServer;

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}/v1/${path}`, {
      method,
      headers: { 'x-vault-token': rootToken, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, text: await response.text() };
  };

  beforeAll(async () => {
    const target = new URL(POSTGRES_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const via = new URL(POSTGRES_URL);
    via.port = String(proxy.port);
    via.searchParams.set('schema', schema);
    server = await startServer({
      dev: { rootTokenId: rootToken },
      storage: via.toString(),
      port: 0,
      logLevel: 'silent',
      storageTimeouts: { connectTimeoutMs: 1_000, queryTimeoutMs: 2_000 },
    });
  });
  afterAll(async () => {
    await server?.close();
    await proxy?.close();
    await dropPostgresSchema(schema);
  });

  it.each<CutMode>(['refuse', 'blackhole'])(
    'answers 503 ERR_STORAGE_UNAVAILABLE while cut (%s) and recovers when restored',
    async (mode) => {
      expect((await call('POST', `secret/data/before-${mode}`, { data: { n: 1 } })).status).toBe(
        200,
      );
      proxy.cut(mode);
      try {
        for (const [method, path] of [
          ['GET', `secret/data/before-${mode}`],
          ['POST', `secret/data/during-${mode}`],
        ] as const) {
          const answer = await call(
            method,
            path,
            method === 'POST' ? { data: { n: 2 } } : undefined,
          );
          expect(answer.status).toBe(503);
          expect(JSON.parse(answer.text).errors[0]).toMatch(/^storage unavailable/);
          // The driver's words (hosts, socket codes) stay in the server log.
          expect(answer.text).not.toMatch(/ECONN|timeout exceeded|Connection terminated|127\.0/);
        }
      } finally {
        proxy.restore();
      }
      const read = await call('GET', `secret/data/before-${mode}`);
      expect(read.status).toBe(200);
      expect(JSON.parse(read.text).data.data).toEqual({ n: 1 });
    },
  );

  it('loses no acknowledged write when PostgreSQL goes away and comes back under load', async () => {
    const acknowledged = new Map<string, number>();
    const failures: { status: number; text: string }[] = [];
    let running = true;
    const writer = async (w: number) => {
      for (let i = 0; running; i++) {
        const path = `secret/data/load-${w}-${i}`;
        const answer = await call('POST', path, { data: { w, i } }).catch((err: Error) => ({
          status: 0,
          text: err.message,
        }));
        if (answer.status === 200) acknowledged.set(path, i);
        else failures.push(answer);
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    const waitFor = async (count: () => number, atLeast: number) => {
      while (count() < atLeast) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    await waitFor(() => acknowledged.size, 20);
    proxy.cut('refuse');
    await waitFor(() => failures.length, 8);
    proxy.restore();
    const after = acknowledged.size;
    await waitFor(() => acknowledged.size, after + 20);
    running = false;
    await Promise.all(writers);

    // Every failure was the typed 503 (no 500, no dropped connection).
    expect(failures.length).toBeGreaterThanOrEqual(8);
    for (const failure of failures) {
      expect(failure.status).toBe(503);
      expect(JSON.parse(failure.text).errors[0]).toMatch(/^storage unavailable/);
    }
    // Every acknowledged write is there, row by row.
    for (const [path, i] of acknowledged) {
      const read = await call('GET', path);
      expect(read.status, path).toBe(200);
      expect(JSON.parse(read.text).data.data.i).toBe(i);
    }
  });
});
