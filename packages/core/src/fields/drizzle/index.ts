/**
 * Drizzle ORM columns that encrypt on write and decrypt on read (`drizzle-orm` is an optional
 * peer dependency). Values are bound to table, column and (optionally) tenant.
 *
 * @example
 * ```ts
 * import { sqliteEncrypted } from '@custos/core/fields/drizzle';
 * const patients = sqliteTable('patients', {
 *   id: text('id').primaryKey(),
 *   ssn: sqliteEncrypted('ssn', { cipher: fc, table: 'patients' }),
 * });
 * ```
 * @module
 */
export {
  type EncryptedColumnOptions,
  type EncryptedColumnType,
  encryptedColumnType,
} from './column-type.js';
export { pgEncrypted } from './pg.js';
export { sqliteEncrypted } from './sqlite.js';
