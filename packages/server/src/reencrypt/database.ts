import type { Checkpoint, Row, RowId, RowUpdate, TableTarget } from './types.js';

/**
 * What the re-encryption engine needs from a database. Implemented over better-sqlite3
 * (`sqlite-database.ts`) and pg (`postgres-database.ts`); open one with
 * `openReencryptDatabase`.
 */
export interface ReencryptDatabase {
  readonly kind: 'sqlite' | 'postgres';
  /** Where the data lives, without credentials. */
  readonly description: string;
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
  close(): Promise<void>;
}
