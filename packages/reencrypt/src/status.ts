import { ENVELOPE_TEXT_PREFIX, parseEnvelope } from '@custos/core/crypto';
import type { AnyFieldCipher, CiphertextInfo } from '@custos/core/fields';
import type { AnyKysely } from './database.js';
import { reencryptDatabase } from './dialect.js';
import type { RowId, TableTarget } from './types.js';
import { contextFor, decrypts, inspectValue, type ValueState } from './value-plan.js';

/** Options of {@link encryptionStatus}. */
export interface EncryptionStatusOptions {
  /** The application's Kysely instance on SQLite or PostgreSQL, as for `reencryptTable`. */
  readonly db: AnyKysely;
  readonly target: TableTarget;
  /** Without a cipher only envelope headers are read: no "current", no decryption check. */
  readonly cipher?: AnyFieldCipher;
  /** As for `reencryptTable`: how the application binds values (for the decryption check). */
  readonly contextTable?: string;
  readonly bindRowId?: boolean;
  /**
   * Blind-index columns to count per blind-index key version (`b<n>.`), legacy (`v<n>.`, derived
   * from an encryption key) and NULL: what a `blindIndexes` backfill has left.
   */
  readonly indexColumns?: readonly string[];
  /** Try to decrypt every value (default true with a cipher): finds tampered or moved values. */
  readonly decrypt?: boolean;
  readonly batchSize?: number;
  readonly onProgress?: (rowsDone: number, rowsTotal: number) => void;
  readonly signal?: AbortSignal;
}

/** Values of one key version in one column. */
export interface KeyVersionCount {
  readonly keyId: string;
  readonly keyName: string | undefined;
  readonly keyVersion: number;
  readonly deterministic: boolean;
  /** Undefined without a cipher. */
  readonly current: boolean | undefined;
  values: number;
}

/** What one column holds. */
export interface ColumnStatus {
  readonly column: string;
  nulls: number;
  plaintext: number;
  /** Values that look like envelopes but cannot be parsed. */
  malformed: number;
  /** Per key version, most values first. */
  versions: KeyVersionCount[];
  /** Values that failed to decrypt (only counted when decryption is checked). */
  failing: number;
}

/** Indexes of one blind-index key version (or legacy) in one index column. */
export interface IndexVersionCount {
  /** `b`: a version of the blind-index key; `v`: legacy, derived from an encryption key. */
  readonly kind: 'blind-index' | 'legacy';
  readonly keyVersion: number;
  /** Under the blind-index key's primary; undefined without a cipher holding that key. */
  readonly current: boolean | undefined;
  values: number;
}

/** What one blind-index column holds. */
export interface IndexColumnStatus {
  readonly column: string;
  nulls: number;
  /** Values that are no blind index custos writes. */
  unrecognised: number;
  /** Per version, most values first. */
  versions: IndexVersionCount[];
}

/** What `custos encryption status` reports. */
export interface EncryptionStatus {
  readonly rows: number;
  readonly decryptChecked: boolean;
  readonly columns: readonly ColumnStatus[];
  /** Present when `indexColumns` were given. */
  readonly indexes?: readonly IndexColumnStatus[];
}

/**
 * Counts, per column, the values under each key version, plaintext values, NULLs, and (with a
 * cipher) values that fail to decrypt. Reads the table in keyset-paginated batches; writes
 * nothing.
 *
 * @example
 * ```ts
 * const status = await encryptionStatus({ db, cipher, target: { table: 'patients', idColumn: 'id', columns: ['ssn'] } });
 * ```
 */
export async function encryptionStatus(
  options: EncryptionStatusOptions,
): Promise<EncryptionStatus> {
  const { cipher } = options;
  const indexColumns = options.indexColumns ?? [];
  const { target } = options;
  const readTarget = { ...target, columns: [...target.columns, ...indexColumns] };
  const database = reencryptDatabase(options.db);
  await database.inspect(readTarget);
  const rowsTotal = await database.countRows(readTarget);
  const primaryIndexVersion =
    cipher === undefined ? undefined : (await cipher.currentKeys()).blindIndex?.keyVersion;
  const indexes = new Map(
    indexColumns.map((column) => [
      column,
      { column, nulls: 0, unrecognised: 0, byVersion: new Map<string, IndexVersionCount>() },
    ]),
  );
  const decryptChecked = cipher !== undefined && options.decrypt !== false;
  const binding = {
    contextTable: options.contextTable ?? (target.table.split('.').at(-1) as string),
    bindRowId: options.bindRowId !== false,
    deterministicColumns: new Set<string>(),
    padding: undefined,
  };
  const columns = new Map<string, ColumnStatus & { byKey: Map<string, KeyVersionCount> }>(
    target.columns.map((column) => [
      column,
      { column, nulls: 0, plaintext: 0, malformed: 0, versions: [], failing: 0, byKey: new Map() },
    ]),
  );
  let after: RowId | undefined;
  let rows = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const batch = await database.readBatch(readTarget, after, options.batchSize ?? 1000);
    if (batch.length === 0) break;
    for (const row of batch) {
      for (const column of target.columns) {
        const status = columns.get(column) as ColumnStatus & {
          byKey: Map<string, KeyVersionCount>;
        };
        const value = row[column];
        const state = cipher === undefined ? headerOnly(value) : await inspectValue(cipher, value);
        if (state.kind === 'null') status.nulls++;
        else if (state.kind === 'plaintext') status.plaintext++;
        else if (state.kind === 'malformed') status.malformed++;
        else {
          count(status.byKey, state.info, cipher !== undefined);
          if (
            decryptChecked &&
            !(await decrypts(
              cipher,
              value as string,
              contextFor(binding, target, row, column),
              state.info,
            ))
          ) {
            status.failing++;
          }
        }
      }
    }
    for (const row of batch) {
      for (const [column, status] of indexes) countIndex(status, row[column], primaryIndexVersion);
    }
    rows += batch.length;
    after = batch.at(-1)?.[target.idColumn] as RowId;
    options.onProgress?.(rows, rowsTotal);
  }
  return {
    rows,
    decryptChecked,
    columns: [...columns.values()].map(({ byKey, ...status }) => ({
      ...status,
      versions: [...byKey.values()].sort((a, b) => b.values - a.values),
    })),
    ...(indexColumns.length === 0
      ? {}
      : {
          indexes: [...indexes.values()].map(({ byVersion, ...status }) => ({
            ...status,
            versions: [...byVersion.values()].sort((a, b) => b.values - a.values),
          })),
        }),
  };
}

// `b<n>.` (blind-index key) or `v<n>.` (legacy), as `packages/core/src/fields/FORMAT.md` says.
const INDEX_FORMAT = /^([bv])([1-9][0-9]{0,9})\.[A-Za-z0-9_-]+$/;

function countIndex(
  status: { nulls: number; unrecognised: number; byVersion: Map<string, IndexVersionCount> },
  value: unknown,
  primary: number | undefined,
): void {
  if (value === null || value === undefined) {
    status.nulls++;
    return;
  }
  const match = typeof value === 'string' ? INDEX_FORMAT.exec(value) : null;
  if (match === null) {
    status.unrecognised++;
    return;
  }
  const key = `${match[1]}${match[2]}`;
  const entry = status.byVersion.get(key);
  if (entry !== undefined) {
    entry.values++;
    return;
  }
  const legacy = match[1] === 'v';
  const keyVersion = Number(match[2]);
  status.byVersion.set(key, {
    kind: legacy ? 'legacy' : 'blind-index',
    keyVersion,
    current: primary === undefined ? undefined : !legacy && keyVersion === primary,
    values: 1,
  });
}

function count(byKey: Map<string, KeyVersionCount>, info: CiphertextInfo, known: boolean): void {
  const key = `${info.keyId}:${info.keyVersion}:${info.deterministic}`;
  const entry = byKey.get(key);
  if (entry !== undefined) entry.values++;
  else {
    byKey.set(key, {
      keyId: info.keyId,
      keyName: info.keyName,
      keyVersion: info.keyVersion,
      deterministic: info.deterministic,
      current: known ? info.current : undefined,
      values: 1,
    });
  }
}

/** Classifies a value from its envelope header alone (no keys). */
function headerOnly(value: unknown): ValueState {
  if (value === null || value === undefined) return { kind: 'null' };
  if (typeof value !== 'string' || !value.startsWith(ENVELOPE_TEXT_PREFIX)) {
    return { kind: 'plaintext' };
  }
  try {
    // KMS-mode values append ".<wrapped key>"; the header before it names the data key.
    const { keyId, keyVersion, algorithm } = parseEnvelope(value.split('.')[0] as string);
    const deterministic = algorithm === 'aes-256-gcm-siv';
    return {
      kind: 'encrypted',
      info: { keyId, keyName: undefined, keyVersion, deterministic, current: false },
    };
  } catch {
    return { kind: 'malformed' };
  }
}
