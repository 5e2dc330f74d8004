import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Keyring, writeKeyringFile } from '@custos/core/crypto';
import { createFieldCipher, type FieldCipher } from '@custos/core/fields';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Measurement } from '../lib/measure.js';
import type { Table } from '../lib/report.js';

const bin = fileURLToPath(new URL('../../packages/cli/bin/custos.js', import.meta.url));
const COLUMNS = ['name', 'ssn', 'email'] as const;
const POSTGRES_URL =
  process.env.CUSTOS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Run {
  readonly rows: number;
  readonly rowsPerSecond: number;
  readonly peakRssMiB: number | undefined;
}

/**
 * `custos reencrypt` (the CLI, in a child process) over tables with three encrypted columns, at
 * a quarter of the row count and at the full count, on SQLite and PostgreSQL. Rows/s is the
 * whole command (start-up included, verification pass skipped); peak RSS is sampled from
 * `/proc/<pid>/status` every 50 ms. Equal rows/s and equal peak RSS at both sizes show that
 * time per row and memory do not grow with the table.
 *
 * Row count: `CUSTOS_BENCH_REENCRYPT_ROWS` (default 200,000; the figure the spec asks for is
 * 1,000,000, which takes several minutes per database; 0 skips these runs).
 */
export async function reencryptTables(): Promise<{ tables: Table[]; notes: string }> {
  const total = Number(process.env.CUSTOS_BENCH_REENCRYPT_ROWS ?? 200_000);
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
      '1,000 rows, verification pass skipped; rows/s counts the whole command. Peak RSS is',
      'sampled every 50 ms; the same figure at both sizes means memory stays flat.',
      tables.length === 1 ? 'PostgreSQL was not reachable, so only SQLite ran.' : '',
    ].join('\n'),
  };
}

function table(database: string, runs: readonly Run[]): Table {
  const rows: Measurement[] = runs.map((run) => ({
    name: label(database, run),
    opsPerSecond: run.rowsPerSecond,
    spread: 0,
  }));
  const [small, large] = rows;
  return {
    title: `custos reencrypt on ${database}, rows/s (three encrypted columns)`,
    baseline: small?.name as string,
    rows,
    goals: [
      {
        description: `${database}: rows/s holds as the table grows (keyset pagination)`,
        candidate: large?.name as string,
        against: small?.name as string,
        atLeast: 0.8,
      },
    ],
  };
}

function label(database: string, run: Run): string {
  const rss = run.peakRssMiB === undefined ? 'n/a' : `${run.peakRssMiB.toFixed(0)} MiB`;
  return `${database}, ${run.rows.toLocaleString('en-US')} rows (peak RSS ${rss})`;
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
  let peakKiB: number | undefined;
  const sampler = setInterval(async () => {
    const rss = await rssKiB(child.pid as number);
    if (rss !== undefined) peakKiB = Math.max(peakKiB ?? 0, rss);
  }, 50);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`custos reencrypt failed (${code}): ${stderr}`);
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  return {
    rows,
    rowsPerSecond: rows / seconds,
    peakRssMiB: peakKiB === undefined ? undefined : peakKiB / 1024,
  };
}

async function rssKiB(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}
