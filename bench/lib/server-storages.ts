import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerProcess, startServerProcess } from './http-load.js';
import { dropSchema, POSTGRES_URL, postgresReachable } from './postgres.js';

/** The storages a server benchmark runs on. */
export type StorageLabel = 'SQLite' | 'PostgreSQL';

/**
 * Runs `measure` against a fresh `custos server --dev` (own process, root token `token`, an audit
 * file, as in production) on SQLite and, when it answers, PostgreSQL (a schema of its own,
 * dropped afterwards).
 */
export async function onEachStorage<T>(
  token: string,
  measure: (server: ServerProcess, storage: StorageLabel) => Promise<T>,
): Promise<{ storage: StorageLabel; result: T }[]> {
  const dir = await mkdtemp(join(tmpdir(), 'custos-bench-'));
  const schema = `custos_bench_${process.pid}_${Date.now()}`;
  const storages: [StorageLabel, string][] = [['SQLite', join(dir, 'custos.db')]];
  const withPostgres = await postgresReachable();
  if (withPostgres) storages.push(['PostgreSQL', `${POSTGRES_URL}?schema=${schema}`]);
  else console.warn(`PostgreSQL is not reachable at ${new URL(POSTGRES_URL).host}: SQLite only`);
  const results: { storage: StorageLabel; result: T }[] = [];
  try {
    for (const [storage, location] of storages) {
      const server = await startServerProcess([
        '--dev-root-token-id',
        token,
        '--storage',
        location,
        '--audit-file',
        join(dir, `audit-${storage}.log`),
      ]);
      try {
        results.push({ storage, result: await measure(server, storage) });
      } finally {
        await server.stop();
      }
    }
  } finally {
    if (withPostgres) await dropSchema(schema);
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}
