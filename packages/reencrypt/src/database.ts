import { CompiledQuery, type Kysely } from 'kysely';
import type { Checkpoint, Row, RowId, RowUpdate, TableTarget } from './types.js';

/** The application's Kysely instance, whatever its schema type. */
// biome-ignore lint/suspicious/noExplicitAny: a run works on any table of any database schema.
export type AnyKysely = Kysely<any>;

/**
 * What the re-encryption engine needs from a database, over the application's Kysely instance:
 * SQLite (`sqlite-database.ts`) or PostgreSQL (`postgres-database.ts`). Each query is compiled
 * once per run and then executed with new parameters.
 */
export interface ReencryptDatabase {
  /** Checks that the table and columns exist (and hold text, on PostgreSQL). */
  inspect(target: TableTarget): Promise<void>;
  countRows(target: TableTarget): Promise<number>;
  /** Up to `limit` rows with id > `after`, ordered by id (id, tenant and encrypted columns). */
  readBatch(target: TableTarget, after: RowId | undefined, limit: number): Promise<Row[]>;
  /** The rows with these ids, as they are now. */
  readRows(target: TableTarget, ids: readonly RowId[]): Promise<Row[]>;
  /**
   * Applies compare-and-swap updates in one transaction; each row is written only if every
   * changed column (and the tenant) still holds the value read. When every update applied and
   * `checkpoint` is given, saves it in the same transaction. Returns which updates applied.
   */
  applyUpdates(
    target: TableTarget,
    updates: readonly RowUpdate[],
    checkpoint?: Checkpoint,
  ): Promise<boolean[]>;
  ensureCheckpointTable(): Promise<void>;
  loadCheckpoint(runKey: string): Promise<Checkpoint | undefined>;
  saveCheckpoint(checkpoint: Checkpoint): Promise<void>;
}

/**
 * Runs `work` in one transaction on one connection, begun with `begin` (SQLite takes the write
 * lock up front with `begin immediate`); rolls back if it throws.
 */
export async function inTransaction<T>(
  db: AnyKysely,
  begin: 'begin' | 'begin immediate',
  work: (connection: AnyKysely) => Promise<T>,
): Promise<T> {
  return db.connection().execute(async (connection) => {
    await connection.executeQuery(begin === 'begin' ? BEGIN : BEGIN_IMMEDIATE);
    try {
      const result = await work(connection);
      await connection.executeQuery(COMMIT);
      return result;
    } catch (err) {
      await connection.executeQuery(ROLLBACK).catch(() => {});
      throw err;
    }
  });
}

const BEGIN = CompiledQuery.raw('begin');
const BEGIN_IMMEDIATE = CompiledQuery.raw('begin immediate');
const COMMIT = CompiledQuery.raw('commit');
const ROLLBACK = CompiledQuery.raw('rollback');
