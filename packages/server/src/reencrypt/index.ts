/**
 * Re-encryption of database columns after a key rotation, and migration of plaintext columns:
 * batched, resumable (checkpoint in the target database), compare-and-swap so application writes
 * made meanwhile are kept, with a verification pass. `custos reencrypt` and
 * `custos encryption status` are thin commands over these functions. See `NOTES.md`.
 *
 * @example
 * ```ts
 * import { openReencryptDatabase, reencryptTable } from '@custos/server/reencrypt';
 * const database = await openReencryptDatabase('postgres://app@db/app');
 * await reencryptTable({ database, cipher, target: { table: 'patients', idColumn: 'id', columns: ['ssn'] } });
 * ```
 * @module
 */
export { CHECKPOINT_TABLE } from './checkpoint.js';
export type { ReencryptDatabase } from './database.js';
export { openReencryptDatabase } from './open-database.js';
export { openPostgresReencryptDatabase, postgresReencryptDatabase } from './postgres-database.js';
export {
  type ReencryptOptions,
  type ReencryptProgress,
  type ReencryptReport,
  reencryptTable,
} from './reencrypt.js';
export { openSqliteReencryptDatabase, sqliteReencryptDatabase } from './sqlite-database.js';
export {
  type ColumnStatus,
  type EncryptionStatus,
  type EncryptionStatusOptions,
  encryptionStatus,
  type KeyVersionCount,
} from './status.js';
export type { Checkpoint, Row, RowId, RowUpdate, RunStats, TableTarget } from './types.js';
