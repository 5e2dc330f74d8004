import { load, type ServerProcess } from '../lib/http-load.js';
import type { Measurement } from '../lib/measure.js';
import type { Section } from '../lib/report.js';
import { onEachStorage } from '../lib/server-storages.js';

const SECONDS = Number(process.env.CUSTOS_BENCH_HTTP_SECONDS ?? 5);

async function measure(server: ServerProcess): Promise<{ rows: Measurement[]; idle: number }> {
  const token = 'bench-root';
  await fetch(`${server.url}/v1/secret/data/bench/read`, {
    method: 'POST',
    headers: { 'x-vault-token': token },
    body: JSON.stringify({ data: { username: 'app', password: 'x'.repeat(32) } }),
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const idle = await server.rssMiB();
  let n = 0;
  const rows = [
    await load(
      server,
      { name: 'no-op route (GET sys/health)', method: 'GET', path: () => '/v1/sys/health' },
      { seconds: SECONDS },
    ),
    await load(
      server,
      { name: 'KV v2 read', method: 'GET', path: () => '/v1/secret/data/bench/read', token },
      { seconds: SECONDS },
    ),
    await load(
      server,
      {
        name: 'KV v2 write (1,000 keys)',
        method: 'POST',
        path: () => `/v1/secret/data/bench/w${n++ % 1000}`,
        body: JSON.stringify({ data: { password: 'y'.repeat(32) } }),
        token,
      },
      { seconds: SECONDS },
    ),
  ];
  return { rows, idle };
}

/**
 * KV v2 over HTTP with autocannon: reads and writes beside the cheapest route of the same server,
 * on SQLite and PostgreSQL, with p99 latency and the server process's memory. The server runs in
 * its own process with an audit file, as in production.
 */
export async function serverSuite(): Promise<Section> {
  const { runs, notes } = await onEachStorage('bench-root', measure);
  const idle = runs.map(({ storage, result }) => `${storage}: ${result.idle.toFixed(0)} MiB`);
  const tables = runs.map(({ storage, result }) => ({
    title: `KV v2 over HTTP, ${storage} storage`,
    baseline: 'no-op route (GET sys/health)',
    rows: result.rows,
  }));
  return {
    heading: 'Server: KV v2 over HTTP (`@custos/server`, autocannon)',
    notes: [
      `autocannon, 16 connections, ${SECONDS} s per row, against \`custos server --dev\` in its own process with`,
      "an audit file (every request and response HMAC'd, hash-chained, checkpoints signed). The no-op",
      'row is `GET /v1/sys/health` (no token, not audited); reads and writes carry a token checked against',
      'storage and policies on every request. Writes go to 1,000 keys (each write a transaction: version',
      `entry + metadata under a revision check). Server RSS at idle: ${idle.join(', ')}.`,
      ...notes.map((note) => `\n${note}`),
    ].join('\n'),
    tables,
  };
}
