import { customType } from 'drizzle-orm/pg-core';
import type { FieldValue } from '../types.js';
import { type EncryptedColumnOptions, encryptedColumnType } from './column-type.js';

/**
 * An encrypted `text` column for Drizzle on PostgreSQL: encrypts on write, decrypts on read.
 *
 * @example
 * ```ts
 * export const patients = pgTable('patients', {
 *   id: uuid('id').primaryKey(),
 *   ssn: pgEncrypted<string>('ssn', { cipher: fc, table: 'patients' }),
 *   birthDate: pgEncrypted<Date>('birth_date', { cipher: fc, table: 'patients' }),
 *   email: pgEncrypted<string>('email', { cipher: fc, table: 'patients', deterministic: true }),
 * });
 * ```
 */
export function pgEncrypted<T extends FieldValue = string>(
  name: string,
  options: EncryptedColumnOptions,
) {
  return customType<{ data: T; driverData: string }>(encryptedColumnType<T>(name, options))(name);
}
