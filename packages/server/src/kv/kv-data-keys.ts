import { CustosError } from '@custos/core/errors';

/**
 * Longest key name accepted inside a secret's `data`, at any depth. Vault sets none; a field
 * name beyond this is a mistake or an attack on whatever later prints or indexes the names.
 */
export const MAX_DATA_KEY_LENGTH = 256;

/**
 * Refuses `data` that holds an object key longer than {@link MAX_DATA_KEY_LENGTH} characters,
 * at any depth. Walks with an explicit stack: a deeply nested body cannot overflow the call
 * stack. The message gives the key's length and path depth, never the key (it may be huge).
 *
 * @example
 * ```ts
 * checkDataKeys({ password: 'x' }); // passes
 * checkDataKeys({ ['k'.repeat(300)]: 'x' }); // throws ERR_INVALID_REQUEST
 * ```
 */
export function checkDataKeys(data: Record<string, unknown>): void {
  const pending: { value: unknown; depth: number }[] = [{ value: data, depth: 1 }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const { value, depth } = item;
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (const element of value) pending.push({ value: element, depth: depth + 1 });
      continue;
    }
    for (const [key, child] of Object.entries(value)) {
      if (key.length > MAX_DATA_KEY_LENGTH) {
        throw new CustosError(
          'ERR_INVALID_REQUEST',
          `data key of ${key.length} characters at depth ${depth}: at most ${MAX_DATA_KEY_LENGTH}`,
        );
      }
      pending.push({ value: child, depth: depth + 1 });
    }
  }
}
