import { type AnyFieldCipher, type BlindIndexColumn, blindIndexVersion } from '@custos/core/fields';
import type { Row, RowUpdate, RunStats, TableTarget } from './types.js';
import { type ContextBinding, contextFor, inspectValue, isValueFailure } from './value-plan.js';

/** Encrypted column → where its blind index is and how it is computed (as in the row codec). */
export type BlindIndexColumns = Readonly<Record<string, BlindIndexColumn>>;

/** What a blind-index backfill needs to plan and check rows. */
export interface BlindIndexSettings {
  readonly cipher: AnyFieldCipher;
  /** The target as the run reads it: the encrypted columns, then their index columns. */
  readonly target: TableTarget;
  readonly binding: ContextBinding;
  readonly indexes: BlindIndexColumns;
  /** The blind-index key's primary version: indexes under it are current. */
  readonly primaryVersion: number;
}

type Counts = Partial<RunStats>;

/**
 * Plans one row of a blind-index backfill: an index not under the primary blind-index key
 * version (an older version, or a legacy `v<n>.` index) is recomputed from the decrypted value
 * and written with a compare-and-swap on both the index and the value (the value is written back
 * unchanged, so an application write to either column meanwhile wins). Current indexes, NULL
 * values and values that fail to decrypt are counted and left alone (`reencrypted` counts the
 * indexes rewritten).
 */
export async function planBlindIndexRow(
  settings: BlindIndexSettings,
  row: Row,
): Promise<{ update: RowUpdate | undefined; counts: Counts }> {
  const counts: Counts = {};
  const changes = new Map<string, { old: unknown; next: string }>();
  for (const [column, config] of Object.entries(settings.indexes)) {
    const stored = row[config.indexColumn];
    if (typeof stored === 'string' && blindIndexVersion(stored) === settings.primaryVersion) {
      bump(counts, 'current');
      continue;
    }
    const outcome = await recompute(settings, row, column, config);
    if (outcome.kind !== 'index') {
      bump(counts, outcome.kind);
      continue;
    }
    changes.set(config.indexColumn, { old: stored, next: outcome.index });
    changes.set(column, { old: row[column], next: row[column] as string });
    bump(counts, 'reencrypted');
  }
  const { target } = settings;
  const tenant = target.tenantColumn === undefined ? undefined : row[target.tenantColumn];
  const id = row[target.idColumn] as RowUpdate['id'];
  return { update: changes.size === 0 ? undefined : { id, tenant, changes }, counts };
}

/** Verification of one row: every index of a value is under the primary and recomputes equal. */
export async function verifyBlindIndexRow(settings: BlindIndexSettings, row: Row): Promise<Counts> {
  const counts: Counts = {};
  for (const [column, config] of Object.entries(settings.indexes)) {
    const stored = row[config.indexColumn];
    const outcome = await recompute(settings, row, column, config);
    if (outcome.kind === 'nulls') {
      if (stored !== null && stored !== undefined) bump(counts, 'verifyFailed');
    } else if (outcome.kind === 'plaintext') bump(counts, 'verifyPlaintext');
    else if (outcome.kind === 'index' && outcome.index === stored) bump(counts, 'verified');
    else bump(counts, 'verifyFailed');
  }
  return counts;
}

type Outcome =
  | { readonly kind: 'index'; readonly index: string }
  | { readonly kind: 'nulls' | 'plaintext' | 'failed' };

/** The index a row's value should have now, computed from its decrypted value. */
async function recompute(
  settings: BlindIndexSettings,
  row: Row,
  column: string,
  config: BlindIndexColumn,
): Promise<Outcome> {
  const { cipher, target, binding } = settings;
  const value = row[column];
  const state = await inspectValue(cipher, value);
  if (state.kind === 'null') return { kind: 'nulls' };
  if (state.kind === 'plaintext') return { kind: 'plaintext' };
  if (state.kind === 'malformed') return { kind: 'failed' };
  const tenant = target.tenantColumn === undefined ? undefined : row[target.tenantColumn];
  // A tenant-bound column's index key is per tenant: without the tenant, no index (fail closed).
  if (target.tenantColumn !== undefined && (tenant === null || tenant === undefined)) {
    return { kind: 'failed' };
  }
  const context = contextFor(binding, target, row, column);
  try {
    const plaintext = await cipher.decrypt(value as string, {
      ...context,
      deterministic: state.info.deterministic,
    });
    const { indexColumn: _, ...options } = config;
    const index = await cipher.blindIndex(plaintext, {
      ...options,
      table: context.table,
      column,
      ...(context.tenantId === undefined ? {} : { tenantId: context.tenantId }),
    });
    return { kind: 'index', index };
  } catch (err) {
    if (!isValueFailure(err)) throw err;
    return { kind: 'failed' };
  }
}

function bump(counts: Counts, key: keyof RunStats): void {
  counts[key] = (counts[key] ?? 0) + 1;
}
