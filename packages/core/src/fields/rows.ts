import { DATA_CLASSES, type DataClass, dataClassOf } from '../classification/data-class.js';
import { CustosError } from '../errors/index.js';
import type {
  AnyFieldCipher,
  AsyncFieldCipher,
  BlindIndexOptions,
  FieldCipher,
  FieldContext,
  FieldIdentifier,
  FieldValue,
  PaddingOptions,
} from './types.js';

/** How one encrypted column is written. */
export interface EncryptedColumn {
  /** Deterministic encryption (equality queries on the ciphertext itself). */
  readonly deterministic?: boolean;
  readonly padding?: PaddingOptions;
  /** Also write a blind index of the value into another column. */
  readonly blindIndex?: BlindIndexColumn;
  /**
   * What the column holds (docs/classification.md): `PHI`, `PII`, `credential`, `payment` or
   * `internal`, any case; another value is refused when the codec is created.
   */
  readonly dataClass?: DataClass;
}

/** Where a column's blind index goes, and how it is computed. */
export interface BlindIndexColumn extends Pick<BlindIndexOptions, 'bits' | 'normalize' | 'slow'> {
  /** The column holding the index, e.g. `email_bidx`. */
  readonly indexColumn: string;
}

/** The encrypted columns of one table, and which columns bind rows and tenants. */
export interface TableEncryption {
  readonly table: string;
  /** Encrypted columns; `true` means randomised with no options. */
  readonly columns: Readonly<Record<string, EncryptedColumn | true>>;
  /**
   * The column whose value binds each ciphertext to its row (an id known before the insert).
   * Omit to bind no row (the ciphertext can then be copied between rows of the same column).
   */
  readonly idColumn?: string;
  /** The column holding the tenant id: selects the tenant's key and binds the tenant. */
  readonly tenantColumn?: string;
}

type Row = Readonly<Record<string, unknown>>;

/** Encrypts and decrypts whole rows of one table (plain objects, as `pg` and better-sqlite3 return). */
export interface RowCodec {
  readonly table: TableEncryption;
  /** The classified columns and their class, canonically spelled (column → class). */
  readonly dataClasses: Readonly<Record<string, DataClass>>;
  /** A copy of `row` with its encrypted columns encrypted and blind indexes filled in. */
  encryptRow<R extends Row>(row: R): R;
  /** A copy of `row` with every encrypted column present decrypted (NULL stays null). */
  decryptRow<T = Record<string, unknown>>(row: Row): T;
  decryptRows<T = Record<string, unknown>>(rows: readonly Row[]): T[];
  /** The context a column's values are bound to in `row`. */
  contextFor(column: string, row: Row): FieldContext;
  /** The blind index to look `value` up by (`where email_bidx = ?`). */
  blindIndex(column: string, value: FieldValue, tenantId?: FieldIdentifier): string;
  /**
   * Indexes under every readable blind-index key version, then legacy ones (`where email_bidx
   * in (…)` while a blind-index backfill runs). Tenant-bound columns need the tenant.
   */
  blindIndexCandidates(column: string, value: FieldValue, tenantId?: FieldIdentifier): string[];
}

/** {@link RowCodec} over a KMS-mode cipher: the same methods, returning promises. */
export interface AsyncRowCodec {
  readonly table: TableEncryption;
  readonly dataClasses: Readonly<Record<string, DataClass>>;
  encryptRow<R extends Row>(row: R): Promise<R>;
  decryptRow<T = Record<string, unknown>>(row: Row): Promise<T>;
  decryptRows<T = Record<string, unknown>>(rows: readonly Row[]): Promise<T[]>;
  contextFor(column: string, row: Row): FieldContext;
  blindIndex(column: string, value: FieldValue, tenantId?: FieldIdentifier): Promise<string>;
  blindIndexCandidates(
    column: string,
    value: FieldValue,
    tenantId?: FieldIdentifier,
  ): Promise<string[]>;
}

/**
 * Row helpers for drivers that return plain objects (`pg`, better-sqlite3, mysql2): encrypt
 * the configured columns before an insert or update, decrypt them after a select. A value that
 * is not a ciphertext in an encrypted column is refused (`ERR_FIELD_NOT_ENCRYPTED`), never
 * returned as if it had been decrypted.
 *
 * @example
 * ```ts
 * const patients = createRowCodec(fc, {
 *   table: 'patients',
 *   idColumn: 'id',
 *   columns: { ssn: true, email: { blindIndex: { indexColumn: 'email_bidx', normalize: true } } },
 * });
 * db.prepare('insert into patients (id, ssn, email, email_bidx) values (@id, @ssn, @email, @email_bidx)')
 *   .run(patients.encryptRow({ id, ssn, email }));
 * const row = patients.decryptRow(
 *   db.prepare('select * from patients where email_bidx = ?').get(patients.blindIndex('email', email)),
 * );
 * ```
 */
export function createRowCodec(cipher: FieldCipher, table: TableEncryption): RowCodec;
export function createRowCodec(cipher: AsyncFieldCipher, table: TableEncryption): AsyncRowCodec;
export function createRowCodec(
  cipher: AnyFieldCipher,
  table: TableEncryption,
): RowCodec | AsyncRowCodec {
  const columns = normalizeColumns(table);
  const settle = cipher.mode === 'keyring' ? settleSync : settleAsync;

  function contextFor(column: string, row: Row): FieldContext {
    const config = columns.get(column);
    if (config === undefined) {
      throw new CustosError('ERR_INVALID_ARGUMENT', `${table.table}.${column} is not encrypted`);
    }
    const rowId = config.deterministic ? undefined : identifier(row, table.idColumn, column);
    const tenantId = identifier(row, table.tenantColumn, column);
    return {
      table: table.table,
      column,
      ...(rowId === undefined ? {} : { rowId }),
      ...(tenantId === undefined ? {} : { tenantId }),
      ...(config.deterministic ? { deterministic: true } : {}),
      ...(config.padding ? { padding: config.padding } : {}),
    };
  }

  function identifier(row: Row, idColumn: string | undefined, column: string) {
    if (idColumn === undefined) return undefined;
    const value = row[idColumn];
    if (value === undefined || value === null) {
      throw new CustosError(
        'ERR_FIELD_CONTEXT_MISSING',
        `${table.table}.${column} is bound to ${idColumn}, which the row does not hold`,
      );
    }
    return value as FieldIdentifier;
  }

  function indexOptions(column: string, tenantId: FieldIdentifier | undefined) {
    const index = columns.get(column)?.blindIndex;
    if (index === undefined) {
      throw new CustosError('ERR_INVALID_ARGUMENT', `${table.table}.${column} has no blind index`);
    }
    if (table.tenantColumn !== undefined && (tenantId === undefined || tenantId === null)) {
      // A tenant-bound column's index key is per tenant; one made without it never matches.
      throw new CustosError(
        'ERR_FIELD_CONTEXT_MISSING',
        `${table.table}.${column} is bound to ${table.tenantColumn}: pass the tenant id to look it up`,
      );
    }
    const { indexColumn: _, ...rest } = index;
    return { ...rest, table: table.table, column, ...(tenantId === undefined ? {} : { tenantId }) };
  }

  function encryptRow(row: Row) {
    const out: Record<string, unknown> = { ...row };
    const pending: [string, unknown][] = [];
    for (const [column, config] of columns) {
      if (!(column in row)) continue;
      const value = row[column];
      const indexColumn = config.blindIndex?.indexColumn;
      if (value === null || value === undefined) {
        if (indexColumn !== undefined) out[indexColumn] = null;
        continue;
      }
      const context = contextFor(column, row);
      pending.push([column, cipher.encrypt(value as FieldValue, context)]);
      if (indexColumn !== undefined) {
        pending.push([
          indexColumn,
          cipher.blindIndex(value as FieldValue, indexOptions(column, context.tenantId)),
        ]);
      }
    }
    return settle(pending, out);
  }

  function decryptRow(row: Row) {
    const out: Record<string, unknown> = { ...row };
    const pending: [string, unknown][] = [];
    for (const column of columns.keys()) {
      const value = row[column];
      if (value === null || value === undefined) continue;
      pending.push([column, cipher.decrypt(value as string, contextFor(column, row))]);
    }
    return settle(pending, out);
  }

  // In KMS mode every method returns a promise, even when it fails before any await.
  const lift =
    cipher.mode === 'keyring'
      ? <A extends unknown[], R>(fn: (...args: A) => R) => fn
      : <A extends unknown[], R>(fn: (...args: A) => R) =>
          async (...args: A) =>
            fn(...args);
  return {
    table,
    dataClasses: classesOf(table.table, columns),
    encryptRow: lift(encryptRow),
    decryptRow: lift(decryptRow),
    decryptRows: lift((rows: readonly Row[]) => {
      const results = rows.map(decryptRow);
      return cipher.mode === 'keyring' ? results : Promise.all(results);
    }),
    contextFor,
    blindIndex: lift((column: string, value: FieldValue, tenantId?: FieldIdentifier) =>
      cipher.blindIndex(value, indexOptions(column, tenantId)),
    ),
    blindIndexCandidates: lift((column: string, value: FieldValue, tenantId?: FieldIdentifier) =>
      cipher.blindIndexCandidates(value, indexOptions(column, tenantId)),
    ),
  } as RowCodec | AsyncRowCodec;
}

function normalizeColumns(table: TableEncryption): Map<string, EncryptedColumn> {
  if (typeof table?.table !== 'string' || table.table === '') {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'table encryption needs a table name');
  }
  const entries = Object.entries(table.columns ?? {});
  if (entries.length === 0) {
    throw new CustosError('ERR_INVALID_ARGUMENT', `${table.table}: no encrypted columns given`);
  }
  return new Map(entries.map(([name, config]) => [name, config === true ? {} : config]));
}

/** Each classified column's class, checked and canonically spelled. */
function classesOf(
  table: string,
  columns: ReadonlyMap<string, EncryptedColumn>,
): Readonly<Record<string, DataClass>> {
  const classes = new Map<string, DataClass>();
  for (const [column, config] of columns) {
    if (config.dataClass === undefined) continue;
    const found = dataClassOf(config.dataClass);
    if (found === undefined) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `${table}.${column}: dataClass must be one of ${DATA_CLASSES.join(', ')} (any case)`,
      );
    }
    classes.set(column, found);
  }
  return Object.freeze(Object.fromEntries(classes));
}

function settleSync(pending: [string, unknown][], out: Record<string, unknown>) {
  for (const [column, value] of pending) out[column] = value;
  return out;
}

async function settleAsync(pending: [string, unknown][], out: Record<string, unknown>) {
  const values = await Promise.all(pending.map(([, value]) => value));
  pending.forEach(([column], i) => {
    out[column] = values[i];
  });
  return out;
}
