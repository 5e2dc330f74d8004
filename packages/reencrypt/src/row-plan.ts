import type { AnyFieldCipher } from '@custos/core/fields';
import type { RowUpdate, RunStats, TableTarget } from './types.js';
import {
  type ContextBinding,
  contextFor,
  inspectValue,
  isValueFailure,
  plaintextValue,
} from './value-plan.js';

/** What re-encrypting one row takes: the update to make (if any) and what it counts. */
export interface RowPlan {
  readonly update: RowUpdate | undefined;
  readonly counts: Partial<RunStats>;
}

/** Settings of the re-encryption pass that shape each row's plan. */
export interface PlanSettings {
  readonly cipher: AnyFieldCipher;
  readonly target: TableTarget;
  readonly binding: ContextBinding;
  readonly encryptPlaintext: boolean;
}

/**
 * Plans one row: values under an old key version are re-encrypted (decrypted and encrypted again
 * under the primary, keeping mode and padding), plaintext is encrypted when asked, current
 * values and NULLs are left alone, and values that fail to decrypt are counted, never touched.
 */
export async function planRow(
  settings: PlanSettings,
  row: Readonly<Record<string, unknown>>,
): Promise<RowPlan> {
  const { cipher, target, binding } = settings;
  const counts: Partial<RunStats> = {};
  const bump = (key: keyof RunStats) => {
    counts[key] = (counts[key] ?? 0) + 1;
  };
  const changes = new Map<string, { old: unknown; next: string }>();
  for (const column of target.columns) {
    const value = row[column];
    const state = await inspectValue(cipher, value);
    const context = contextFor(binding, target, row, column);
    if (state.kind === 'null') bump('nulls');
    else if (state.kind === 'malformed') bump('failed');
    else if (state.kind === 'plaintext') {
      if (!settings.encryptPlaintext) bump('plaintext');
      else {
        changes.set(column, {
          old: value,
          next: await cipher.encrypt(plaintextValue(value), context),
        });
        bump('encrypted');
      }
    } else if (state.info.current) bump('current');
    else {
      try {
        changes.set(column, { old: value, next: await cipher.reencrypt(value as string, context) });
        bump('reencrypted');
      } catch (err) {
        if (!isValueFailure(err)) throw err;
        bump('failed');
      }
    }
  }
  const tenant = target.tenantColumn === undefined ? undefined : row[target.tenantColumn];
  const id = row[target.idColumn] as RowUpdate['id'];
  return { update: changes.size === 0 ? undefined : { id, tenant, changes }, counts };
}

/** Adds counts into stats. */
export function addCounts(stats: RunStats, counts: Partial<RunStats>): RunStats {
  const out = { ...stats };
  for (const [key, n] of Object.entries(counts) as [keyof RunStats, number][]) out[key] += n;
  return out;
}
