/**
 * Test support: a Kysely instance on a real database, as an application would hand it to a
 * custos store. SQLite in memory, or a fresh PostgreSQL schema dropped on close.
 */
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { POSTGRES_URL, requireService, uniqueName } from './services.js';

export type TestDatabaseKind = 'sqlite' | 'postgres';

export interface TestDatabase {
  readonly kind: TestDatabaseKind;
  // biome-ignore lint/suspicious/noExplicitAny: stores take any schema.
  readonly db: Kysely<any>;
  close(): Promise<void>;
}

/** SQLite always; PostgreSQL when reachable (and required under CI). */
export async function testDatabaseKinds(): Promise<TestDatabaseKind[]> {
  return (await requireService('postgres')) ? ['sqlite', 'postgres'] : ['sqlite'];
}

/** Opens an empty database of `kind`. */
export async function openTestDatabase(
  kind: TestDatabaseKind,
  label: string,
): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const db = new Kysely({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
    return { kind, db, close: () => db.destroy() };
  }
  const schema = uniqueName(label);
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`create schema "${schema}"`);
  await admin.end();
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` });
  const db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  return {
    kind,
    db,
    async close() {
      await db.destroy();
      const cleanup = new pg.Client({ connectionString: POSTGRES_URL });
      await cleanup.connect();
      await cleanup.query(`drop schema "${schema}" cascade`);
      await cleanup.end();
    },
  };
}
