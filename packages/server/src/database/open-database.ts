import { closeSync, constants, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CustosError } from '@custos/core/errors';
import { pgConnectionOptionsFromUrl } from '@custos/core/tls';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type pg from 'pg';
import { loadPg } from './load-pg.js';
import { SchemaScopedPostgresDialect } from './schema-introspector.js';
import { registerSqliteHandle } from './sqlite-handle.js';
import { cachingSqliteDatabase } from './statement-cache.js';

/** Which database a location names. */
export type DatabaseKind = 'sqlite' | 'postgres';

/** An open database: a Kysely instance and where it points. */
export interface OpenDatabase<DB> {
  readonly kind: DatabaseKind;
  readonly db: Kysely<DB>;
  /** Where the data lives, without credentials (for logs and reports). */
  readonly description: string;
  /** PostgreSQL schema holding the tables, when the location names one. */
  readonly schema?: string;
  /** Closes the connections (`db.destroy()`). */
  close(): Promise<void>;
}

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /**
   * Create what is missing: a SQLite file (owner-only, 0600, and its directory, 0700) or the
   * PostgreSQL schema. Without it the database must exist: a mistyped SQLite path is refused
   * instead of reporting an empty database, and PostgreSQL is asked once that it answers.
   */
  readonly create?: boolean;
  /** Run on each SQLite connection as it opens; default `busy_timeout = 10000` only. */
  readonly sqlitePragmas?: readonly string[];
  /** Connections in the PostgreSQL pool; default 10. */
  readonly maxConnections?: number;
  /**
   * How long a new PostgreSQL connection may take before the query that needed it fails
   * (default 5 000 ms): with PostgreSQL down or unreachable, requests fail fast instead of hanging.
   */
  readonly connectTimeoutMs?: number;
  /**
   * How long a PostgreSQL query may run: the server cancels it (`statement_timeout`) and the
   * client stops waiting a little later (`query_timeout`, for a server that no longer answers).
   * Default 30 000 ms.
   */
  readonly queryTimeoutMs?: number;
}

/**
 * Opens a Kysely instance on the database named by `location`, the grammar of the server's
 * `storage` setting and of `custos reencrypt --db`:
 * - `:memory:` — SQLite in memory;
 * - a file path or `sqlite:<path>` — a SQLite file (prepared statements cached per SQL text);
 * - `postgres://user@host:port/db[?schema=name]` (or `postgresql://`) — PostgreSQL; with
 *   `schema`, the search path is that schema.
 *
 * Errors are `ERR_INVALID_ARGUMENT` and never show a password. Nothing is migrated or
 * reconfigured beyond `sqlitePragmas`.
 *
 * @example
 * ```ts
 * import { openDatabase } from '@custos/server/database';
 * const { db, description, close } = await openDatabase(process.env.DATABASE_URL ?? 'app.db');
 * ```
 */
export async function openDatabase<DB>(
  location: string,
  options: OpenDatabaseOptions = {},
): Promise<OpenDatabase<DB>> {
  return /^postgres(ql)?:\/\//.test(location)
    ? openPostgres<DB>(location, options)
    : openSqlite<DB>(location.replace(/^sqlite:/, ''), options);
}

function openSqlite<DB>(path: string, options: OpenDatabaseOptions): OpenDatabase<DB> {
  const inMemory = path === ':memory:';
  let sqlite: Database.Database;
  if (options.create) {
    if (!inMemory) createPrivateFile(path);
    sqlite = new Database(path);
  } else {
    try {
      sqlite = new Database(path, { fileMustExist: true });
    } catch (err) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `cannot open SQLite database ${path}: ${(err as Error).message}`,
      );
    }
  }
  // Wait for other writers instead of failing with SQLITE_BUSY.
  for (const pragma of options.sqlitePragmas ?? ['busy_timeout = 10000']) sqlite.pragma(pragma);
  const cached = cachingSqliteDatabase(sqlite);
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: cached }) });
  const connection = sqlite;
  registerSqliteHandle(db, {
    prepare: (sql) => cached.prepare(sql) as unknown as Database.Statement,
    get inTransaction() {
      return connection.inTransaction;
    },
  });
  return {
    kind: 'sqlite',
    db,
    description: inMemory ? 'sqlite (in memory)' : `sqlite ${resolve(path)}`,
    close: () => db.destroy(),
  };
}

/**
 * Creates a new database file owner-only (0600), and its directory (0700) when missing, before
 * SQLite opens it: SQLite gives the `-wal` and `-shm` files it creates the database file's
 * mode, so they are owner-only too. An existing file keeps the mode its owner gave it.
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

/**
 * The connection settings of the PostgreSQL `location` (credentials, TLS, timeouts, schema),
 * shared by the pool and by the storage's change-feed connection.
 */
export function postgresConnectionOf(
  location: string,
  options: OpenDatabaseOptions,
): { url: URL; schema: string | null; config: pg.ClientConfig } {
  const url = new URL(location);
  const schema = url.searchParams.get('schema');
  url.searchParams.delete('schema');
  if (schema !== null && !SCHEMA_NAME.test(schema)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'schema must be a lowercase SQL identifier');
  }
  // sslmode (and sslrootcert) as libpq reads them; the URL keeps its other parameters.
  const { connectionString, ssl } = pgConnectionOptionsFromUrl(url.toString());
  const queryTimeoutMs = options.queryTimeoutMs ?? 30_000;
  const config: pg.ClientConfig = {
    connectionString,
    ssl,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    // The server cancels first; the client gives up on a connection that stopped answering.
    query_timeout: queryTimeoutMs + 2_000,
    keepAlive: true,
    options: [
      `-c statement_timeout=${Math.trunc(queryTimeoutMs)}`,
      ...(schema === null ? [] : [`-c search_path=${schema}`]),
    ].join(' '),
  };
  return { url, schema, config };
}

async function openPostgres<DB>(
  location: string,
  options: OpenDatabaseOptions,
): Promise<OpenDatabase<DB>> {
  const { url, schema, config } = postgresConnectionOf(location, options);
  const pool = new (loadPg().Pool)({ ...config, max: options.maxConnections ?? 10 });
  // An idle pooled connection that breaks (PostgreSQL restarted, network cut) is dropped by the
  // pool, which emits `error`: without a listener that would end the process.
  pool.on('error', () => {});
  // So does one checked out between queries (a transaction, the leader lock): the query in
  // flight fails on its own, and the pool drops the broken connection when it is released.
  pool.on('connect', (client) => client.on('error', () => {}));
  const prepare = options.create
    ? schema === null
      ? undefined
      : { sql: `create schema if not exists "${schema}"`, failure: 'cannot prepare' }
    : { sql: 'select 1', failure: 'cannot connect to' };
  if (prepare !== undefined) {
    await pool.query(prepare.sql).catch(async (err: Error) => {
      await pool.end();
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `${prepare.failure} PostgreSQL at ${url.host}: ${err.message}`,
      );
    });
  }
  // Tables without a schema named live in `public` (the migrator looks there too).
  const db = new Kysely<DB>({
    dialect: new SchemaScopedPostgresDialect({ pool }, schema ?? 'public'),
  });
  return {
    kind: 'postgres',
    db,
    description: `postgres ${url.host}${url.pathname}${schema ? ` schema ${schema}` : ''}`,
    ...(schema === null ? {} : { schema }),
    close: () => db.destroy(),
  };
}
