import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerProcess, startServerProcess } from './http-load.js';
import { dropSchema, POSTGRES_URL, postgresUnreachable } from './postgres.js';

/** The storages a server benchmark runs on. */
export type StorageLabel = 'SQLite' | 'PostgreSQL';

/** The runs of a server benchmark, and what is missing from them. */
export interface StorageRuns<T> {
  readonly runs: { storage: StorageLabel; result: T }[];
  /** Lines for the section's notes; says so when PostgreSQL was skipped, and why. */
  readonly notes: string[];
}

/**
 * Runs `measure` against a fresh `custos server --dev` (own process, root token `token`, an audit
 * file, as in production) on SQLite and, when it answers, PostgreSQL (a schema of its own,
 * dropped afterwards). When PostgreSQL does not answer, it says so at once on stderr and in the
 * notes it returns, so a report never lacks its PostgreSQL rows silently.
 */
export async function onEachStorage<T>(
  token: string,
  measure: (server: ServerProcess, storage: StorageLabel) => Promise<T>,
): Promise<StorageRuns<T>> {
  const dir = await mkdtemp(join(tmpdir(), 'custos-bench-'));
  const schema = `custos_bench_${process.pid}_${Date.now()}`;
  const storages: [StorageLabel, string][] = [['SQLite', join(dir, 'custos.db')]];
  const unreachable = await postgresUnreachable();
  const notes: string[] = [];
  if (unreachable === undefined) {
    storages.push(['PostgreSQL', `${POSTGRES_URL}?schema=${schema}`]);
  } else {
    const note = `**PostgreSQL not measured:** ${unreachable}; only SQLite ran (start PostgreSQL or set \`CUSTOS_TEST_POSTGRES_URL\`).`;
    process.stderr.write(`  ${note.replaceAll('**', '').replaceAll('`', '')}\n`);
    notes.push(note);
  }
  const runs: { storage: StorageLabel; result: T }[] = [];
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
        runs.push({ storage, result: await measure(server, storage) });
      } finally {
        await server.stop();
      }
    }
  } finally {
    if (unreachable === undefined) await dropSchema(schema);
    await rm(dir, { recursive: true, force: true });
  }
  return { runs, notes };
}
