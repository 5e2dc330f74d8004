import { CustosError } from '../../errors/index.js';
import type {
  AnyFieldCipher,
  FieldCipher,
  FieldContext,
  FieldIdentifier,
  FieldValue,
  PaddingOptions,
} from '../types.js';

/** How an encrypted Drizzle column encrypts. */
export interface EncryptedColumnOptions {
  /** A keyring-mode cipher: Drizzle maps values synchronously. */
  readonly cipher: FieldCipher;
  /** The table name bound into every ciphertext (Drizzle does not tell the column its table). */
  readonly table: string;
  /**
   * Deterministic encryption: `eq(column, value)` then finds rows, because Drizzle encrypts the
   * compared value with the column's mapping. Randomised columns never match an `eq`.
   */
  readonly deterministic?: boolean;
  readonly padding?: PaddingOptions;
  /**
   * Returns the current tenant (for example from an `AsyncLocalStorage`), which selects the
   * tenant's key and is bound to the value. Called on every read and write. Setting it makes the
   * column tenant-bound: a read or write while it returns `undefined` (outside the tenant scope)
   * fails with `ERR_FIELD_CONTEXT_MISSING` rather than using the shared key.
   */
  readonly tenantId?: () => FieldIdentifier | undefined;
}

/** The mapping Drizzle's `customType` needs, for any dialect. */
export interface EncryptedColumnType<T> {
  dataType(): string;
  toDriver(value: T): string;
  fromDriver(value: unknown): T;
}

/**
 * The `customType` parameters of an encrypted text column, for any Drizzle dialect
 * (`pgEncrypted` and `sqliteEncrypted` wrap it; pass it to `mysql-core`'s `customType` for MySQL).
 * Values are bound to table, column and tenant; Drizzle's mapping never sees the row, so rows
 * are not bound (use `createRowCodec` where that matters). A stored value that is not a
 * ciphertext fails the read with `ERR_FIELD_NOT_ENCRYPTED`.
 *
 * @example
 * ```ts
 * import { customType } from 'drizzle-orm/mysql-core';
 * const ssn = customType<{ data: string; driverData: string }>(
 *   encryptedColumnType<string>('ssn', { cipher: fc, table: 'patients' }),
 * )('ssn');
 * ```
 */
export function encryptedColumnType<T extends FieldValue>(
  column: string,
  options: EncryptedColumnOptions,
): EncryptedColumnType<T> {
  const cipher = options?.cipher as AnyFieldCipher | undefined;
  if (cipher?.mode !== 'keyring') {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `${options?.table}.${column}: Drizzle columns need a keyring-mode field cipher (Drizzle maps values synchronously); use createRowCodec with a KMS-mode cipher`,
    );
  }
  if (typeof options.table !== 'string' || options.table === '') {
    throw new CustosError('ERR_FIELD_CONTEXT_MISSING', `encrypted column ${column} needs a table`);
  }
  const base: FieldContext = {
    table: options.table,
    column,
    ...(options.deterministic ? { deterministic: true } : {}),
    ...(options.padding ? { padding: options.padding } : {}),
  };
  const tenantOf = options.tenantId;
  const context =
    tenantOf === undefined
      ? () => base
      : (): FieldContext => {
          const tenantId = tenantOf();
          if (tenantId === undefined || tenantId === null) {
            // Fail closed: unbound, the value would fall back to the shared key.
            throw new CustosError(
              'ERR_FIELD_CONTEXT_MISSING',
              `${options.table}.${column} is bound to a tenant, and tenantId() returned none: run this inside the tenant scope`,
            );
          }
          return { ...base, tenantId };
        };
  return {
    dataType: () => 'text',
    toDriver: (value: T) => cipher.encrypt(value, context()),
    fromDriver: (value: unknown) => cipher.decrypt<T>(value as string, context()),
  };
}
