import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POSTGRES_URL, uniqueName } from '@custos/test-support/services';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { ReencryptDatabase } from '../src/reencrypt/database.js';
import { postgresReencryptDatabase } from '../src/reencrypt/postgres-database.js';
import { sqliteReencryptDatabase } from '../src/reencrypt/sqlite-database.js';

/** A scratch database with direct SQL access for the test's "application". */
export interface TestDatabase {
  readonly name: string;
  readonly database: ReencryptDatabase;
  /** Runs SQL with `?` placeholders (translated for PostgreSQL). */
  query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /** Inserts many rows in one statement per chunk. */
  insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  close(): Promise<void>;
}

/** A SQLite file in a temporary directory. */
export function sqliteTestDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'custos-reencrypt-'));
  const sqlite = new Database(join(dir, 'app.db'));
  sqlite.pragma('journal_mode = WAL');
  return {
    name: 'SQLite',
    database: sqliteReencryptDatabase(sqlite),
    async query(sql, params = []) {
      const statement = sqlite.prepare(sql);
      if (statement.reader) return statement.all(...params) as Record<string, unknown>[];
      statement.run(...params);
      return [];
    },
    async insert(table, rows) {
      insertChunks(rows, 500, (columns, chunk) => {
        const placeholders = chunk.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
        sqlite
          .prepare(`insert into ${table} (${columns.join(', ')}) values ${placeholders}`)
          .run(...chunk.flatMap((row) => columns.map((c) => row[c] ?? null)));
      });
    },
    async close() {
      sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh schema in the test PostgreSQL database. */
export async function postgresTestDatabase(): Promise<TestDatabase> {
  const schema = uniqueName('reencrypt');
  const admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
  await admin.query(`create schema ${schema}`);
  const pool = new pg.Pool({
    connectionString: POSTGRES_URL,
    max: 4,
    options: `-c search_path=${schema}`,
  });
  const translate = (sql: string) => {
    let i = 0;
    return sql.replace(/\?/g, () => `$${++i}`);
  };
  return {
    name: 'PostgreSQL',
    database: postgresReencryptDatabase(pool),
    async query(sql, params = []) {
      return (await pool.query(translate(sql), [...params])).rows;
    },
    async insert(table, rows) {
      const chunks: Promise<unknown>[] = [];
      insertChunks(rows, 2000, (columns, chunk) => {
        const values = chunk
          .map((_, r) => `(${columns.map((__, c) => `$${r * columns.length + c + 1}`).join(', ')})`)
          .join(', ');
        chunks.push(
          pool.query(
            `insert into ${table} (${columns.join(', ')}) values ${values}`,
            chunk.flatMap((row) => columns.map((c) => row[c] ?? null)),
          ),
        );
      });
      await Promise.all(chunks);
    },
    async close() {
      await pool.end();
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}

function insertChunks(
  rows: readonly Record<string, unknown>[],
  size: number,
  write: (columns: string[], chunk: readonly Record<string, unknown>[]) => void,
): void {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0] as Record<string, unknown>);
  for (let i = 0; i < rows.length; i += size) write(columns, rows.slice(i, i + size));
}
