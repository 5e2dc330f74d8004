import { CustosError } from '@custos/core/errors';
import type { CompiledQuery } from 'kysely';
import type { AnyKysely, ReencryptDatabase } from './database.js';
import { prepareQuery } from './prepared-query.js';
import type { Checkpoint, RowId, RunStats } from './types.js';

/** The checkpoint table, created in the target database (current schema on PostgreSQL). */
export const CHECKPOINT_TABLE = 'custos_reencrypt_checkpoint';

/** The checkpoint queries of one database, compiled once. */
export interface CheckpointQueries {
  /** Creates the table if missing (same table on SQLite and PostgreSQL). */
  readonly create: CompiledQuery;
  readonly select: (runKey: string) => CompiledQuery;
  readonly upsert: (checkpoint: Checkpoint) => CompiledQuery;
}

const COLUMNS = [
  'run_key',
  'target_keys',
  'phase',
  'last_id',
  'stats',
  'started_at',
  'updated_at',
] as const;

/** Compiles the checkpoint queries for `db`'s dialect. */
export function checkpointQueries(db: AnyKysely): CheckpointQueries {
  const create = db.schema
    .createTable(CHECKPOINT_TABLE)
    .ifNotExists()
    .addColumn('run_key', 'text', (c) => c.primaryKey())
    .addColumn('target_keys', 'text', (c) => c.notNull())
    .addColumn('phase', 'text', (c) => c.notNull())
    .addColumn('last_id', 'text')
    .addColumn('stats', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .compile();
  const select = prepareQuery<'runKey'>((p) =>
    db.selectFrom(CHECKPOINT_TABLE).select(COLUMNS).where('run_key', '=', p('runKey')),
  );
  const upsert = prepareQuery<(typeof COLUMNS)[number]>((p) =>
    db
      .insertInto(CHECKPOINT_TABLE)
      .values(Object.fromEntries(COLUMNS.map((c) => [c, p(c)])))
      .onConflict((conflict) =>
        conflict
          .column('run_key')
          .doUpdateSet((eb) =>
            Object.fromEntries(
              COLUMNS.filter((c) => c !== 'run_key').map((c) => [c, eb.ref(`excluded.${c}`)]),
            ),
          ),
      ),
  );
  return {
    create,
    select: (runKey) => select({ runKey }),
    upsert: (checkpoint) => upsert(checkpointRow(checkpoint)),
  };
}

/** A checkpoint as the row stored for it. */
function checkpointRow(checkpoint: Checkpoint): Record<(typeof COLUMNS)[number], string | null> {
  return {
    run_key: checkpoint.runKey,
    target_keys: checkpoint.targetKeys,
    phase: checkpoint.phase,
    last_id: encodeRowId(checkpoint.lastId),
    stats: JSON.stringify(checkpoint.stats),
    started_at: checkpoint.startedAt,
    updated_at: checkpoint.updatedAt,
  };
}

/** A checkpoint row as read back. */
export function checkpointFromRow(row: Record<string, unknown>): Checkpoint {
  const phase = row.phase;
  if (phase !== 'reencrypt' && phase !== 'verify' && phase !== 'done') {
    throw new CustosError('ERR_INVALID_ARGUMENT', `${CHECKPOINT_TABLE} holds an unknown phase`);
  }
  return {
    runKey: String(row.run_key),
    targetKeys: String(row.target_keys),
    phase,
    lastId: decodeRowId(row.last_id as string | null),
    stats: JSON.parse(String(row.stats)) as RunStats,
    startedAt: String(row.started_at),
    updatedAt: String(row.updated_at),
  };
}

// Ids keep their JS type across a resume: a number stays a number (SQLite compares integers
// and text differently), a bigint comes back as a bigint.
function encodeRowId(id: RowId | undefined): string | null {
  if (id === undefined) return null;
  return typeof id === 'bigint' ? JSON.stringify({ bigint: id.toString() }) : JSON.stringify(id);
}

function decodeRowId(text: string | null): RowId | undefined {
  if (text === null || text === undefined) return undefined;
  const value = JSON.parse(text) as unknown;
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'object' && value !== null && 'bigint' in value) {
    return BigInt((value as { bigint: string }).bigint);
  }
  throw new CustosError('ERR_INVALID_ARGUMENT', `${CHECKPOINT_TABLE} holds an unreadable last_id`);
}

/**
 * The checkpoint methods of a {@link ReencryptDatabase}, the same on every dialect: the table
 * is created, read and written with the compiled {@link checkpointQueries}.
 */
export function checkpointStore(
  db: AnyKysely,
  checkpoints: CheckpointQueries,
): Pick<ReencryptDatabase, 'ensureCheckpointTable' | 'loadCheckpoint' | 'saveCheckpoint'> {
  return {
    async ensureCheckpointTable() {
      await db.executeQuery(checkpoints.create);
    },
    async loadCheckpoint(runKey) {
      const { rows } = await db.executeQuery<Record<string, unknown>>(checkpoints.select(runKey));
      return rows[0] === undefined ? undefined : checkpointFromRow(rows[0]);
    },
    async saveCheckpoint(checkpoint) {
      await db.executeQuery(checkpoints.upsert(checkpoint));
    },
  };
}
