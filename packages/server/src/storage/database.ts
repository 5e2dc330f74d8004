import { closeSync, constants, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { checkDatabaseFile } from './database-file.js';
import { migrate } from './migrations.js';
import type { StorageSchema } from './schema.js';
import { cachingSqliteDatabase } from './statement-cache.js';

/** Which database holds the entries. */
export type StorageKind = 'sqlite' | 'postgres';

/** An open, migrated database. */
export interface StorageDatabase {
  readonly kind: StorageKind;
  readonly db: Kysely<StorageSchema>;
  /** Where the data lives, without credentials (for logs and `sys/seal-status`). */
  readonly description: string;
  /** PostgreSQL schema holding the tables, when one was given. */
  readonly schema?: string;
  close(): Promise<void>;
}

/**
 * Opens the storage named by `location` and runs the migrations:
 * - `:memory:` or `memory` — SQLite in memory (dev mode's default);
 * - a file path or `sqlite:<path>` — SQLite file (created owner-only, 0600, with its directory);
 *   an existing one must be a regular file of this user that no one else may read or write,
 *   in a directory others cannot write to ({@link checkDatabaseFile});
 * - `postgres://user@host:port/db[?schema=name]` — PostgreSQL; with `schema`, the tables live in
 *   that schema (created if missing), which lets several deployments or test runs share a database.
 *
 * @example
 * ```ts
 * const storage = await openStorage('postgres://custos@db:5432/custos');
 * ```
 */
export async function openStorage(location: string): Promise<StorageDatabase> {
  const storage = /^postgres(ql)?:\/\//.test(location)
    ? await openPostgres(location)
    : openSqlite(location);
  try {
    await migrate(storage.db as never, storage.kind, storage.schema);
  } catch (err) {
    await storage.close();
    throw err;
  }
  return storage;
}

function openSqlite(location: string): StorageDatabase {
  const path = location === 'memory' ? ':memory:' : location.replace(/^sqlite:/, '');
  if (path !== ':memory:') {
    // An existing file (or link, or companion file) others could reach is refused first.
    checkDatabaseFile(path);
    createPrivateFile(path);
  }
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  // Lets `LIKE 'prefix%'` (LIST) use the primary-key index.
  sqlite.pragma('case_sensitive_like = ON');
  const db = new Kysely<StorageSchema>({
    dialect: new SqliteDialect({ database: cachingSqliteDatabase(sqlite) }),
  });
  return {
    kind: 'sqlite',
    db,
    description: path === ':memory:' ? 'sqlite (in memory)' : `sqlite ${resolve(path)}`,
    close: () => db.destroy(),
  };
}

/**
 * Creates a new database file owner-only (0600), and its directory (0700) when missing, before
 * SQLite opens it: SQLite gives the `-wal` and `-shm` files it creates the database file's
 * mode, so they are owner-only too. An existing file was checked by `checkDatabaseFile`.
 */
function createPrivateFile(path: string): void {
  mkdirSync(dirname(resolve(path)), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

async function openPostgres(location: string): Promise<StorageDatabase> {
  const url = new URL(location);
  const schema = url.searchParams.get('schema');
  url.searchParams.delete('schema');
  if (schema !== null && !SCHEMA_NAME.test(schema)) {
    throw new Error('storage: schema must be a lowercase SQL identifier');
  }
  const pool = new pg.Pool({
    connectionString: url.toString(),
    max: 10,
    ...(schema === null ? {} : { options: `-c search_path=${schema}` }),
  });
  if (schema !== null) {
    await pool.query(`create schema if not exists "${schema}"`).catch(async (err: Error) => {
      await pool.end();
      throw new Error(`storage: cannot prepare PostgreSQL at ${url.host}: ${err.message}`);
    });
  }
  const db = new Kysely<StorageSchema>({ dialect: new PostgresDialect({ pool }) });
  url.password = '';
  return {
    kind: 'postgres',
    db,
    description: `postgres ${url.host}${url.pathname}${schema ? ` schema ${schema}` : ''}`,
    ...(schema === null ? {} : { schema }),
    close: () => db.destroy(),
  };
}
