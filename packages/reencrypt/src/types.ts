/** A row's id as the driver returns it (SQLite integer, PostgreSQL text/uuid/int, bigint as text). */
export type RowId = string | number | bigint;

/** One row as read: column name to value. */
export type Row = Readonly<Record<string, unknown>>;

/** The table and columns a run works on. Identifiers are checked and quoted before use. */
export interface TableTarget {
  /** `table` or `schema.table`. */
  readonly table: string;
  /** The unique, ordered key used for keyset pagination (usually the primary key). */
  readonly idColumn: string;
  /** The encrypted columns. */
  readonly columns: readonly string[];
  /** The column holding the tenant id, when values are bound to tenants. */
  readonly tenantColumn?: string;
}

/** A compare-and-swap update of one row: written only if each column still holds `old`. */
export interface RowUpdate {
  readonly id: RowId;
  /** The tenant value read with the row (also compared, when the target has a tenant column). */
  readonly tenant: unknown;
  readonly changes: ReadonlyMap<string, { readonly old: unknown; readonly next: string }>;
}

/** Where a run stands, stored in `custos_reencrypt_checkpoint` in the target database. */
export interface Checkpoint {
  /** Table, id column and columns of the run. */
  readonly runKey: string;
  /** The key versions the run re-encrypts to; a different target restarts the run. */
  readonly targetKeys: string;
  readonly phase: 'reencrypt' | 'verify' | 'done';
  /** The last id processed in this phase (JSON), or undefined at the start of the phase. */
  readonly lastId: RowId | undefined;
  readonly stats: RunStats;
  readonly startedAt: string;
  readonly updatedAt: string;
}

/** Counters of a run, per value (a row with three columns counts up to three). */
export interface RunStats {
  rows: number;
  /** Values already under the current key version. */
  current: number;
  /** Values re-encrypted to the current version. */
  reencrypted: number;
  /** Plaintext values encrypted (`encryptPlaintext`). */
  encrypted: number;
  /** Plaintext values left alone (without `encryptPlaintext`). */
  plaintext: number;
  nulls: number;
  /** Values that could not be decrypted or parsed (left untouched). */
  failed: number;
  /** Rows the application changed during the run (its write was kept). */
  conflicts: number;
  /** Verification pass: rows read. */
  verifyRows: number;
  /** Verification pass: values that decrypt and are current. */
  verified: number;
  /** Verification pass: values failing to decrypt or not current (plaintext counted apart). */
  verifyFailed: number;
  /** Verification pass: plaintext values found. */
  verifyPlaintext: number;
}

/** Fresh counters. */
export function emptyStats(): RunStats {
  return {
    rows: 0,
    current: 0,
    reencrypted: 0,
    encrypted: 0,
    plaintext: 0,
    nulls: 0,
    failed: 0,
    conflicts: 0,
    verifyRows: 0,
    verified: 0,
    verifyFailed: 0,
    verifyPlaintext: 0,
  };
}
