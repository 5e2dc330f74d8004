import { DecryptionFailed, isCustosError } from '../errors/index.js';
import type { MetricsHooks } from '../metrics/hooks.js';
import type { FieldContext } from './types.js';

/**
 * The error to throw for a field value that failed to decrypt: an authentication failure from
 * below is given the table and column it was read for (never the value or the row id), keeping
 * its code, so a log line says where to look, and counted by `metrics` (table and column).
 * Other errors pass through unchanged.
 */
export function fieldDecryptionError(
  err: unknown,
  context: FieldContext,
  metrics?: MetricsHooks,
): unknown {
  if (!isCustosError(err, 'ERR_DECRYPTION_FAILED')) return err;
  metrics?.fieldDecryptFailed(context.table, context.column);
  const where = `${context.table}.${context.column}`;
  if (err.message.includes(where)) return err;
  const reason = err.message.replace(/^decryption failed: /, '');
  return new DecryptionFailed(
    `decryption failed for ${where}: ${reason} (a value copied from another row, column or tenant, or a wrong key)`,
    { cause: err },
  );
}
