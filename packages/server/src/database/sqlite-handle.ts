import type Database from 'better-sqlite3';
import type { Kysely } from 'kysely';

/**
 * The better-sqlite3 connection under a Kysely instance that `openDatabase` opened on
 * SQLite, for the code that runs statements on it synchronously while it holds Kysely's
 * connection (`db.connection().execute`): the entry store's transactions (group-commit.ts).
 */
export interface SqliteHandle {
  /** The statement for `sql`, prepared once (the statement cache Kysely's queries use too). */
  prepare(sql: string): Database.Statement;
  /** Whether a transaction is open on the connection (SQLite may end one on its own errors). */
  readonly inTransaction: boolean;
}

const handles = new WeakMap<Kysely<never>, SqliteHandle>();

/** Records the connection under `db` (openDatabase on SQLite). */
export function registerSqliteHandle<DB>(db: Kysely<DB>, handle: SqliteHandle): void {
  handles.set(db as unknown as Kysely<never>, handle);
}

/**
 * The connection under `db` when openDatabase opened it on SQLite; undefined for PostgreSQL and
 * for a Kysely instance made elsewhere.
 *
 * @example
 * ```ts
 * const { db } = await openDatabase(':memory:');
 * sqliteHandleOf(db)?.inTransaction; // false
 * ```
 */
export function sqliteHandleOf<DB>(db: Kysely<DB>): SqliteHandle | undefined {
  return handles.get(db as unknown as Kysely<never>);
}
