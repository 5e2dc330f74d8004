// Run in a child process by bench/suites/rewrap.ts (with report-peak-memory.cjs preloaded and
// --expose-gc): a custos server in this process on SQLite storage, a table of `rows` transit
// ciphertexts in a SQLite file registered as `rotationDatabases.app`, then one `transit-key`
// rotation. Prints `{ rows, seconds, startRssKiB, rewrapPeakRssKiB, polls, heapAfterGcKiB,
// externalAfterGcKiB }` as JSON: the time from the rotation request until its background work
// (the rewrap) is done; the RSS when the rotation was asked for and the highest RSS sampled at
// each poll of the rotation history (every 20 ms) until the rewrap was done; how many polls were
// answered (on SQLite every query is synchronous, so the rewrap does not give the event loop
// back between batches: the polls are answered only once it is done); and, after the peak was
// taken, the V8 heap used and the external memory after a forced full gc (what is still
// retained, as opposed to garbage not yet collected).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '@custos/server';
import Database from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect } from 'kysely';

const rows = Number(process.argv[2]);
const dir = await mkdtemp(join(tmpdir(), 'custos-bench-rewrap-'));
const file = new Database(join(dir, 'app.db'));
file.pragma('journal_mode = WAL');
const db = new Kysely({ dialect: new SqliteDialect({ database: file }) });
const server = await startServer({
  dev: { rootTokenId: 'bench-root' },
  port: 0,
  logLevel: 'silent',
  storage: join(dir, 'custos.db'),
  rotationDatabases: { app: db },
});
const api = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${server.url}/v1/${path}`, {
    method,
    headers: { 'x-vault-token': 'bench-root' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok)
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  // biome-ignore lint/suspicious/noExplicitAny: the API's JSON, read by this script only.
  return response.status === 204 ? undefined : ((await response.json()) as any);
};
try {
  await api('POST', 'transit/keys/bench', {});
  await db.executeQuery(
    CompiledQuery.raw('create table stored (id integer primary key, secret text)'),
  );
  const insert = file.prepare('insert into stored (id, secret) values (?, ?)');
  const plaintext = Buffer.from('x'.repeat(32)).toString('base64');
  for (let from = 0; from < rows; from += 5_000) {
    const n = Math.min(5_000, rows - from);
    const r = await api('POST', 'transit/encrypt/bench', {
      batch_input: Array.from({ length: n }, () => ({ plaintext })),
    });
    file.transaction(() => {
      for (const [i, b] of (r.data.batch_results as { ciphertext: string }[]).entries())
        insert.run(from + i + 1, b.ciphertext);
    })();
  }
  await api('POST', 'sys/rotation/secret/bench/key', {
    rotator: 'transit-key',
    schedule: '720h',
    grace_period: '0s',
    settings: {
      key: 'bench',
      batch_size: 1_000,
      targets: [{ database: 'app', table: 'stored', id_column: 'id', column: 'secret' }],
    },
  });
  const rssKiB = () => Math.round(process.memoryUsage.rss() / 1024);
  const startRssKiB = rssKiB();
  let rewrapPeakRssKiB = startRssKiB;
  let polls = 0;
  const started = process.hrtime.bigint();
  const result = await api('POST', 'sys/rotate-secret/secret/bench/key', { force: true });
  if (result.data.result !== 'succeeded') throw new Error(`rotation ${result.data.result}`);
  // The answer comes once the new key version is current; the rewrap goes on in the background.
  for (;;) {
    const history = await api('GET', 'sys/rotation-history/secret/bench/key');
    polls++;
    const state = history.data.runs.at(-1)?.background?.state;
    if (state === 'done') break;
    if (state === 'failed' || state === 'abandoned')
      throw new Error(`the rewrap ${state}: ${history.data.runs.at(-1)?.background?.error}`);
    rewrapPeakRssKiB = Math.max(rewrapPeakRssKiB, rssKiB());
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  rewrapPeakRssKiB = Math.max(rewrapPeakRssKiB, rssKiB());
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const left = file
    .prepare("select count(*) as n from stored where secret not like 'vault:v2:%'")
    .get() as { n: number };
  if (left.n !== 0) throw new Error(`${left.n} rows not rewrapped`);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run this child with --expose-gc');
  gc();
  const after = process.memoryUsage();
  const heapAfterGcKiB = Math.round(after.heapUsed / 1024);
  const externalAfterGcKiB = Math.round(after.external / 1024);
  process.stdout.write(
    `${JSON.stringify({ rows, seconds, startRssKiB, rewrapPeakRssKiB, polls, heapAfterGcKiB, externalAfterGcKiB })}\n`,
  );
} finally {
  await server.close();
  await db.destroy();
  await rm(dir, { recursive: true, force: true });
}
