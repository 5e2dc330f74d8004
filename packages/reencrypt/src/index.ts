/**
 * `@custos/reencrypt`: re-encryption of database columns after a key rotation, and migration of
 * plaintext columns, over the application's Kysely instance (SQLite or PostgreSQL): batched,
 * resumable (checkpoint in the target database), compare-and-swap so application writes made
 * meanwhile are kept, with a verification pass. `custos reencrypt` and
 * `custos encryption status` are thin commands over these functions. See `NOTES.md`.
 *
 * @example
 * ```ts
 * import { reencryptTable } from '@custos/reencrypt';
 * const report = await reencryptTable({
 *   db, // the application's Kysely instance
 *   cipher: createFieldCipher({ keyring }),
 *   target: { table: 'patients', idColumn: 'id', columns: ['ssn'] },
 * });
 * ```
 * @module
 */
export type { BlindIndexColumns } from './blind-index-plan.js';
export { CHECKPOINT_TABLE } from './checkpoint.js';
// The batch and compare-and-swap layer on its own, for other rewrap jobs (the server's
// `transit-key` rotator rewraps transit ciphertexts with it).
export type { AnyKysely, ReencryptDatabase } from './database.js';
export { reencryptDatabase } from './dialect.js';
export { quoteTarget } from './identifiers.js';
export {
  type ReencryptOptions,
  type ReencryptProgress,
  type ReencryptReport,
  type RunOptions,
  reencryptTable,
} from './reencrypt.js';
export {
  type ColumnStatus,
  type EncryptionStatus,
  type EncryptionStatusOptions,
  encryptionStatus,
  type IndexColumnStatus,
  type IndexVersionCount,
  type KeyVersionCount,
} from './status.js';
export type { Row, RowId, RowUpdate, RunStats, TableTarget } from './types.js';
