import { ENVELOPE_TEXT_PREFIX } from '@custos/core/crypto';
import { isCustosError } from '@custos/core/errors';
import type {
  AnyFieldCipher,
  CiphertextInfo,
  FieldContext,
  FieldValue,
  PaddingOptions,
} from '@custos/core/fields';
import type { Row, TableTarget } from './types.js';

/**
 * How the application binds its ciphertexts; the run must bind them identically or nothing
 * decrypts. Table: `contextTable`; column: the column name; row id: the id column's value when
 * `bindRowId`; tenant: the tenant column's value when the target names one.
 */
export interface ContextBinding {
  readonly contextTable: string;
  readonly bindRowId: boolean;
  /** Columns encrypted deterministically (for plaintext being encrypted; ciphertexts say so). */
  readonly deterministicColumns: ReadonlySet<string>;
  readonly padding: PaddingOptions | undefined;
}

/** The field context of one column of one row. */
export function contextFor(
  binding: ContextBinding,
  target: TableTarget,
  row: Row,
  column: string,
): FieldContext {
  const rowId = binding.bindRowId ? row[target.idColumn] : undefined;
  const tenant = target.tenantColumn === undefined ? undefined : row[target.tenantColumn];
  return {
    table: binding.contextTable,
    column,
    ...(rowId === undefined || rowId === null ? {} : { rowId: rowId as string | number }),
    ...(tenant === undefined || tenant === null ? {} : { tenantId: tenant as string | number }),
    ...(binding.deterministicColumns.has(column) ? { deterministic: true } : {}),
    ...(binding.padding === undefined ? {} : { padding: binding.padding }),
  };
}

/** What a stored value is, read without decrypting. */
export type ValueState =
  | { readonly kind: 'null' }
  | { readonly kind: 'plaintext' }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'encrypted'; readonly info: CiphertextInfo };

/** Classifies a stored value: NULL, plaintext, a damaged envelope, or a ciphertext. */
export async function inspectValue(cipher: AnyFieldCipher, value: unknown): Promise<ValueState> {
  if (value === null || value === undefined) return { kind: 'null' };
  if (typeof value !== 'string' || !value.startsWith(ENVELOPE_TEXT_PREFIX)) {
    return { kind: 'plaintext' };
  }
  try {
    return { kind: 'encrypted', info: await cipher.describe(value) };
  } catch (err) {
    if (!isValueFailure(err)) throw err;
    return { kind: 'malformed' };
  }
}

/** Codes that describe one value (or its row), not the run. */
const VALUE_FAILURES: ReadonlySet<string> = new Set([
  'ERR_DECRYPTION_FAILED', // tampered, moved to another row/column/tenant, key not held
  'ERR_MALFORMED_CIPHERTEXT',
  'ERR_KEY_DISABLED', // under a retired version
  'ERR_FIELD_NOT_ENCRYPTED',
  'ERR_FIELD_CONTEXT_MISSING', // the row lacks the id or tenant the value is bound to
  'ERR_INVALID_ARGUMENT', // the row's id or tenant cannot be bound (empty, not finite)
]);

/**
 * Whether an error is about the value itself, so the value is counted and left alone. Anything
 * else stops the run: a KMS that cannot answer (`ERR_KMS_REMOTE`), a key that must be rotated
 * first (`ERR_KEY_EXHAUSTED`) or a bug must not be reported as thousands of "failing" values.
 */
export function isValueFailure(err: unknown): boolean {
  return isCustosError(err) && VALUE_FAILURES.has(err.code);
}

/** Whether a ciphertext authenticates under its context (mode taken from the ciphertext). */
export async function decrypts(
  cipher: AnyFieldCipher,
  value: string,
  context: FieldContext,
  info: CiphertextInfo,
): Promise<boolean> {
  try {
    await cipher.decrypt(value, { ...context, deterministic: info.deterministic });
    return true;
  } catch (err) {
    if (!isValueFailure(err)) throw err;
    return false;
  }
}

/** A plaintext database value as the field value to encrypt (bytes stay bytes, numbers numbers). */
export function plaintextValue(value: unknown): FieldValue {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') {
    return value;
  }
  if (value instanceof Uint8Array) return value;
  if (value instanceof Date) return value;
  return String(value);
}
