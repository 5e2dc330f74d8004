import type { KeyObject } from 'node:crypto';
import { hmacSha256 } from '@custos/core/crypto';

/** A sink's HMAC key: a KeyObject, so the key is imported once, not on every HMAC. */
export type AuditKey = KeyObject;

/** Prefix of every HMAC'd value in an audit entry, as Vault writes them. */
export const HMAC_PREFIX = 'hmac-sha256:';

/** HMAC of one string value, in the audit log's form. */
export function hmacValue(key: AuditKey, value: string): string {
  return HMAC_PREFIX + hmacSha256(key, value).toString('hex');
}

/**
 * Replaces every string inside `value` (object values and array items, at any depth) with its
 * HMAC, keeping keys, numbers, booleans and structure: an operator can still see which fields
 * were sent, and can find a known value with `sys/audit-hash`, but the log holds no secret.
 */
export function hmacStrings(key: AuditKey, value: unknown): unknown {
  if (typeof value === 'string') return hmacValue(key, value);
  if (Array.isArray(value)) return value.map((item) => hmacStrings(key, item));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = hmacStrings(key, v);
    return out;
  }
  return value;
}
