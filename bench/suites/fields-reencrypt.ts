import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Keyring, writeKeyringFile } from '@custos/core/crypto';
import { createFieldCipher, type FieldCipher } from '@custos/core/fields';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Measurement } from '../lib/measure.js';
import { POSTGRES_URL, postgresReachable } from '../lib/postgres.js';
import type { Table } from '../lib/report.js';

const bin = fileURLToPath(new URL('../../packages/cli/bin/custos.js', import.meta.url));
const peakMemoryPreload = fileURLToPath(new URL('../lib/report-peak-memory.cjs', import.meta.url));
const COLUMNS = ['name', 'ssn', 'email'] as const;

interface Run {
  readonly rows: number;
  readonly rowsPerSecond: number;
  readonly peakRssMiB: number;
}

/**
 * `custos reencrypt` (the CLI, in a child process) over tables with three encrypted columns, at
 * a quarter of the row count and at the full count, on SQLite and PostgreSQL. Rows/s is the
 * whole command (start-up included, verification pass skipped). Peak memory is the child's own
 * high-water mark (`process.resourceUsage().maxRSS` at exit, the kernel's VmHWM), not a sample.
 * Rows/s and peak memory at both sizes show whether time per row and memory grow with the table:
 * the goals are rows/s ≥ 0.8× and peak memory ≤ 1.25× the quarter-size run's.
 *
 * Row count: `CUSTOS_BENCH_REENCRYPT_ROWS` (default 1,000,000, as the issue asks; 0 skips these
 * runs).
 */
export async function reencryptTables(): Promise<{ tables: Table[]; notes: string }> {
  const total = Number(process.env.CUSTOS_BENCH_REENCRYPT_ROWS ?? 1_000_000);
  if (total === 0)
    return { tables: [], notes: '`custos reencrypt` skipped (CUSTOS_BENCH_REENCRYPT_ROWS=0).' };
  const sizes = [Math.round(total / 4), total];
  const dir = await mkdtemp(join(tmpdir(), 'custos-bench-reencrypt-'));
  const tables: Table[] = [];
  try {
    const sqliteRuns: Run[] = [];
    for (const rows of sizes) sqliteRuns.push(await sqliteRun(dir, rows));
    tables.push(table('SQLite', sqliteRuns));
    if (await postgresReachable()) {
      const postgresRuns: Run[] = [];
      for (const rows of sizes) postgresRuns.push(await postgresRun(dir, rows));
      tables.push(table('PostgreSQL', postgresRuns));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return {
    tables,
    notes: [
      `\`custos reencrypt\` re-encrypting every value of three columns after a rotation, at`,
      `${sizes.map((n) => n.toLocaleString('en-US')).join(' and ')} rows (\`CUSTOS_BENCH_REENCRYPT_ROWS\`), batches of`,
      '1,000 rows, verification pass skipped; rows/s counts the whole command. Peak RSS is the',
      "child's high-water mark (getrusage at exit); the same figure at both sizes means memory",
      'stays flat as the table grows.',
      tables.length === 1 ? 'PostgreSQL was not reachable, so only SQLite ran.' : '',
    ].join('\n'),
  };
}

function table(database: string, runs: readonly Run[]): Table {
  const rows: Measurement[] = runs.map((run) => ({
    name: `${database}, ${run.rows.toLocaleString('en-US')} rows`,
    opsPerSecond: run.rowsPerSecond,
    spread: 0,
    details: { 'peak RSS': `${run.peakRssMiB.toFixed(0)} MiB` },
    figures: { peakRssMiB: run.peakRssMiB },
  }));
  const [small, large] = rows.map((row) => row.name) as [string, string];
  return {
    title: `custos reencrypt on ${database}, rows/s (three encrypted columns)`,
    baseline: small,
    rows,
    goals: [
      {
        description: `${database}: rows/s holds as the table grows (keyset pagination)`,
        candidate: large,
        against: small,
        atLeast: 0.8,
      },
      {
        description: `${database}: peak memory stays flat as the table grows (one batch held)`,
        candidate: large,
        against: small,
        figure: 'peakRssMiB',
        atMost: 1.25,
      },
    ],
  };
}

function encryptRows(fc: FieldCipher, count: number) {
  return Array.from({ length: count }, (_, i) => {
    const id = i + 1;
    return {
      id,
      name: fc.encrypt(`Patient Number ${id}`, { table: 'patients', column: 'name', rowId: id }),
      ssn: fc.encrypt(`${100 + (id % 900)}-55-${1000 + (id % 9000)}`, {
        table: 'patients',
        column: 'ssn',
        rowId: id,
      }),
      email: fc.encrypt(`patient${id}@example.com`, {
        table: 'patients',
        column: 'email',
        rowId: id,
      }),
    };
  });
}

async function benchKeyring(dir: string) {
  const keyring = new Keyring();
  keyring.createKey('default');
  const fc = createFieldCipher({ keyring });
  const file = join(dir, `keyring-${Date.now()}.json`);
  return {
    fc,
    file,
    rotate: async () => {
      keyring.rotate('default');
      await writeKeyringFile(file, keyring);
    },
  };
}

async function sqliteRun(dir: string, count: number): Promise<Run> {
  const { fc, file, rotate } = await benchKeyring(dir);
  const path = join(dir, `bench-${count}.db`);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('create table patients (id integer primary key, name text, ssn text, email text)');
  const insert = db.prepare('insert into patients values (@id, @name, @ssn, @email)');
  for (let from = 0; from < count; from += 50_000) {
    const rows = encryptRows(fc, Math.min(50_000, count - from)).map((r) => ({
      ...r,
      id: r.id + from,
    }));
    db.transaction(() => {
      for (const row of rows) insert.run(row);
    })();
  }
  db.close();
  await rotate();
  return timeCommand(count, path, file);
}

async function postgresRun(dir: string, count: number): Promise<Run> {
  const { fc, file, rotate } = await benchKeyring(dir);
  const schema = `custos_bench_reencrypt_${count}_${Date.now()}`;
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` });
  try {
    await pool.query(`create schema ${schema}`);
    await pool.query(
      'create table patients (id integer primary key, name text, ssn text, email text)',
    );
    for (let from = 0; from < count; from += 20_000) {
      const rows = encryptRows(fc, Math.min(20_000, count - from));
      await pool.query(
        'insert into patients select * from unnest($1::int[], $2::text[], $3::text[], $4::text[])',
        [rows.map((r) => r.id + from), ...COLUMNS.map((c) => rows.map((r) => r[c]))],
      );
    }
    await rotate();
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('schema', schema);
    return await timeCommand(count, url.toString(), file);
  } finally {
    await pool.query(`drop schema if exists ${schema} cascade`);
    await pool.end();
  }
}

async function timeCommand(rows: number, location: string, keyringFile: string): Promise<Run> {
  const startedAt = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    [
      '--require',
      peakMemoryPreload,
      bin,
      'reencrypt',
      '--db',
      location,
      '--table',
      'patients',
      '--columns',
      COLUMNS.join(','),
      '--keyring',
      keyringFile,
      '--no-verify',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // 'close', not 'exit': standard error must be read to its end (the peak is its last line).
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  if (code !== 0) throw new Error(`custos reencrypt failed (${code}): ${stderr}`);
  const peak = /custos-bench-peak-rss-kib: (\d+)/.exec(stderr);
  if (peak === null) throw new Error('custos reencrypt did not report its peak memory');
  return { rows, rowsPerSecond: rows / seconds, peakRssMiB: Number(peak[1]) / 1024 };
}
