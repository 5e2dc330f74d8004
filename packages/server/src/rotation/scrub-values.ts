import { createHash } from 'node:crypto';
import { isCustosError } from '@custos/core/errors';

const REDACTED = '[REDACTED]';

/** Every string leaf of `data` (and every number, as text), at any depth. */
function leaves(data: unknown, out: string[]): void {
  if (typeof data === 'string') out.push(data);
  else if (typeof data === 'number') out.push(String(data));
  else if (typeof data === 'object' && data !== null)
    for (const value of Object.values(data)) leaves(value, out);
}

/**
 * The message of `error` with every value of `values` (each string leaf of at least 4
 * characters, and its plain SHA-256 in hex, which some systems echo) replaced by
 * `[REDACTED]`: what the rotation history and the audit log may record of a failure.
 *
 * @example
 * ```ts
 * scrubValues(new Error('refused xq7-value'), [{ value: 'xq7-value' }]);
 * // 'refused [REDACTED]'
 * ```
 */
export function scrubValues(error: unknown, values: readonly unknown[]): string {
  let message =
    error instanceof Error
      ? `${error.message}${isCustosError(error) ? ` [${error.code}]` : ''}`
      : 'the step failed';
  const found: string[] = [];
  for (const value of values) leaves(value, found);
  const secrets = found
    .filter((v) => v.length >= 4)
    .flatMap((v) => [v, createHash('sha256').update(v).digest('hex')])
    .sort((a, b) => b.length - a.length);
  for (const secret of secrets) message = message.split(secret).join(REDACTED);
  return message.slice(0, 500);
}
