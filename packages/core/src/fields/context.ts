import type { CryptOptions } from '../crypto/index.js';
import { CustosError } from '../errors/index.js';
import { encodeFieldAad } from './field-aad.js';
import type { BlindIndexOptions, FieldContext, FieldIdentifier } from './types.js';

/** What a field context turns into for the keyring: associated data and a tenant key context. */
export interface BoundContext {
  /** The encoded record `{ purpose, table, column, row?, tenant? }` (see `FORMAT.md`). */
  readonly aad: Buffer;
  /** `tenant/<id>`: selects the tenant's HKDF-derived key. Undefined without a tenant. */
  readonly keyContext: string | undefined;
  readonly deterministic: boolean;
}

/**
 * Validates a field context and builds the associated data bound to the ciphertext. The
 * `purpose` field separates field ciphertexts from anything else encrypted under the same key;
 * deterministic ciphertexts leave the row out (equal values must match across rows).
 *
 * @example
 * ```ts
 * bindContext({ table: 'patients', column: 'ssn', rowId: 7 }).aad;
 * // encodeAssociatedData({ purpose: 'field', table: 'patients', column: 'ssn', row: '7' })
 * ```
 */
export function bindContext(context: FieldContext, deterministic?: boolean): BoundContext {
  if (typeof context !== 'object' || context === null) {
    throw new CustosError(
      'ERR_FIELD_CONTEXT_MISSING',
      'a field context { table, column } is required',
    );
  }
  const table = name(context.table, 'table');
  const column = name(context.column, 'column');
  const tenant = identifier(context.tenantId, 'tenantId');
  const isDeterministic = deterministic ?? context.deterministic === true;
  const aad = isDeterministic
    ? encodeFieldAad('field-deterministic', table, column, undefined, tenant)
    : encodeFieldAad('field', table, column, identifier(context.rowId, 'rowId'), tenant);
  return {
    aad,
    keyContext: tenant === undefined ? undefined : `tenant/${tenant}`,
    deterministic: isDeterministic,
  };
}

/** The keyring options for a bound context. */
export function cryptOptions(bound: BoundContext): CryptOptions {
  return bound.keyContext === undefined
    ? { aad: bound.aad }
    : { aad: bound.aad, keyContext: bound.keyContext };
}

/** The validated column (and tenant) a blind index belongs to. */
export interface BlindIndexScope {
  readonly table: string;
  readonly column: string;
  readonly tenant: string | undefined;
}

/** Validates the table, column and tenant of blind-index options. */
export function blindIndexScope(options: BlindIndexOptions): BlindIndexScope {
  return {
    table: name(options?.table, 'table'),
    column: name(options?.column, 'column'),
    tenant: identifier(options?.tenantId, 'tenantId'),
  };
}

/**
 * The key-derivation purpose of a column's blind index: the column, the tenant and the method,
 * so every column (and tenant) has its own index key.
 */
export function blindIndexPurpose(scope: BlindIndexScope, method: 'hmac' | 'argon2id'): string {
  // JSON of strings is injective: no two (table, column, tenant) share a purpose.
  return `blind-index/${method}/${JSON.stringify([scope.table, scope.column, scope.tenant ?? null])}`;
}

function name(value: unknown, what: string): string {
  if (value === undefined || value === '') {
    throw new CustosError('ERR_FIELD_CONTEXT_MISSING', `the field context needs a ${what}`);
  }
  if (typeof value !== 'string') {
    throw new CustosError('ERR_INVALID_ARGUMENT', `the field context's ${what} must be a string`);
  }
  return value;
}

function identifier(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'bigint' || (typeof value === 'number' && Number.isFinite(value))) {
    return String(value as FieldIdentifier);
  }
  throw new CustosError(
    'ERR_INVALID_ARGUMENT',
    `the field context's ${what} must be a non-empty string, a finite number or a bigint`,
  );
}
