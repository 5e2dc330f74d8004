import { parseVersioned } from '@custos/core/internal/transit';
import { optionalBase64 } from '../../http/fields.js';

/**
 * The version a ciphertext, signature or HMAC names (to load it before the synchronous crypto).
 *
 * @example
 * ```ts
 * versionIn('vault:v2:…'); // [2]
 * ```
 */
export function versionIn(value: unknown, urlSafe = false): number[] {
  try {
    return [parseVersioned(value, urlSafe).version];
  } catch {
    return [];
  }
}

/**
 * Every `key_version` the request names (body and items), to load before the crypto runs.
 *
 * @example
 * ```ts
 * versionsRequested([{ key_version: 3 }], {}); // [3]
 * ```
 */
export function versionsRequested(
  items: readonly Record<string, unknown>[],
  body: Record<string, unknown>,
): number[] {
  return [body, ...items].flatMap((i) => {
    const v = typeof i.key_version === 'number' ? i.key_version : Number(i.key_version);
    return Number.isSafeInteger(v) && v > 0 ? [v] : [];
  });
}

/**
 * An item's derivation `context` and `associated_data` (each falling back to the request
 * body's), decoded, as options of the key operations: absent fields stay absent.
 *
 * @example
 * ```ts
 * encryptWithKey(key, { plaintext, ...bindingOf(item, body) });
 * ```
 */
export function bindingOf(
  item: Record<string, unknown>,
  body: Record<string, unknown>,
): { context?: Buffer; associatedData?: Buffer } {
  const context = optionalBase64(item.context ?? body.context, 'context');
  const associatedData = optionalBase64(
    item.associated_data ?? body.associated_data,
    'associated_data',
  );
  return {
    ...(context ? { context } : {}),
    ...(associatedData ? { associatedData } : {}),
  };
}
