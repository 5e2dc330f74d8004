import { customType } from 'drizzle-orm/sqlite-core';
import type { FieldValue } from '../types.js';
import { type EncryptedColumnOptions, encryptedColumnType } from './column-type.js';

/**
 * An encrypted `text` column for Drizzle on SQLite: encrypts on write, decrypts on read.
 *
 * @example
 * ```ts
 * export const patients = sqliteTable('patients', {
 *   id: text('id').primaryKey(),
 *   ssn: sqliteEncrypted<string>('ssn', { cipher: fc, table: 'patients' }),
 * });
 * ```
 */
export function sqliteEncrypted<T extends FieldValue = string>(
  name: string,
  options: EncryptedColumnOptions,
) {
  return customType<{ data: T; driverData: string }>(encryptedColumnType<T>(name, options))(name);
}
