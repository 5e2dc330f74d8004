import { CustosError } from '@custos/core/errors';
import type { Checkpoint, RowId, RunStats } from './types.js';

/** The checkpoint table, created in the target database (current schema on PostgreSQL). */
export const CHECKPOINT_TABLE = 'custos_reencrypt_checkpoint';

/** Creates the checkpoint table if missing (same SQL on SQLite and PostgreSQL). */
export const CREATE_CHECKPOINT_TABLE = `create table if not exists ${CHECKPOINT_TABLE} (
  run_key text primary key,
  target_keys text not null,
  phase text not null,
  last_id text,
  stats text not null,
  started_at text not null,
  updated_at text not null
)`;

/** Upserts one checkpoint; parameters in {@link checkpointParameters} order. */
export function upsertCheckpointSql(placeholder: (i: number) => string): string {
  const p = Array.from({ length: 7 }, (_, i) => placeholder(i + 1));
  return `insert into ${CHECKPOINT_TABLE} (run_key, target_keys, phase, last_id, stats, started_at, updated_at)
values (${p.join(', ')})
on conflict (run_key) do update set target_keys = excluded.target_keys, phase = excluded.phase,
  last_id = excluded.last_id, stats = excluded.stats, started_at = excluded.started_at,
  updated_at = excluded.updated_at`;
}

/** Reads one checkpoint by run key. */
export function selectCheckpointSql(placeholder: string): string {
  return `select run_key, target_keys, phase, last_id, stats, started_at, updated_at from ${CHECKPOINT_TABLE} where run_key = ${placeholder}`;
}

/** The upsert's parameters. */
export function checkpointParameters(checkpoint: Checkpoint): string[] {
  return [
    checkpoint.runKey,
    checkpoint.targetKeys,
    checkpoint.phase,
    encodeRowId(checkpoint.lastId),
    JSON.stringify(checkpoint.stats),
    checkpoint.startedAt,
    checkpoint.updatedAt,
  ] as string[];
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
