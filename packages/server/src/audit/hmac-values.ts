import { createHmac, type KeyObject } from 'node:crypto';
import { setOwn } from '../lib/own-property.js';

/** A sink's HMAC key: a KeyObject, so the key is imported once, not on every HMAC. */
export type AuditKey = KeyObject;

/** Prefix of every HMAC'd value in an audit entry, as Vault writes them. */
export const HMAC_PREFIX = 'hmac-sha256:';

/** A JSON value that is neither an object, an array nor null. */
export type AuditScalar = string | number | boolean;

/**
 * The string a scalar is HMAC'd as: a string is itself, a number or boolean is written as JSON
 * writes it after parsing (`1.0` and `1e0` → `1`, `true`). So `sys/audit-hash` finds the
 * number 42 with the input `42` or `"42"` — a number and the string of its digits share an HMAC.
 *
 * @example
 * ```ts
 * canonicalScalar(1.0); // '1'
 * canonicalScalar(true); // 'true'
 * ```
 */
export function canonicalScalar(value: AuditScalar): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The HMACs already computed for one request under one key, by canonical string, so a value
 * met again (the token and accessor in the request and the response entry, a `0` or `"root"`
 * in several fields) is HMAC'd once. It holds values of that request only: the broker drops
 * it when the response is logged (never kept across requests, which would keep their values).
 */
export type HmacMemo = Map<string, string>;

/**
 * HMAC of one value, in the audit log's form (`hmac-sha256:<hex>`). With a `memo`, a value
 * already in it is not HMAC'd again.
 *
 * @example
 * ```ts
 * const memo: HmacMemo = new Map();
 * hmacValue(key, token, memo) === hmacValue(key, token, memo); // one HMAC computed
 * ```
 */
export function hmacValue(key: AuditKey, value: AuditScalar, memo?: HmacMemo): string {
  const text = canonicalScalar(value);
  const known = memo?.get(text);
  if (known !== undefined) return known;
  // Hex straight from the digest: no Buffer in between (this runs for every audited value).
  const hashed = HMAC_PREFIX + createHmac('sha256', key).update(text, 'utf8').digest('hex');
  memo?.set(text, hashed);
  return hashed;
}

/**
 * Replaces every scalar inside `value` (strings, numbers and booleans, in object values and
 * array items, at any depth) with the HMAC of its canonical string, keeping keys, arrays and
 * `null`: an operator can still see which fields were sent, and find a known value with
 * `sys/audit-hash`, but the log holds no value — a PIN sent as a number is no more readable
 * than one sent as a string. `null` stays: it carries no value.
 *
 * @example
 * ```ts
 * hmacScalars(key, { pin: 1234, ok: true, note: null });
 * // { pin: 'hmac-sha256:…', ok: 'hmac-sha256:…', note: null }
 * ```
 */
export function hmacScalars(key: AuditKey, value: unknown, memo?: HmacMemo): unknown {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return hmacValue(key, value, memo);
  if (Array.isArray(value)) return value.map((item) => hmacScalars(key, item, memo));
  if (value !== null && typeof value === 'object') {
    const source = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(source)) {
      const hashed = hmacScalars(key, source[k], memo);
      // A `__proto__` field stays a field: assigning it would set the prototype and drop it
      // from the entry. Every other key is an own property by assignment (no other setter).
      if (k === '__proto__') setOwn(out, k, hashed);
      else out[k] = hashed;
    }
    return out;
  }
  // null (and anything JSON cannot carry, which a parsed body never holds).
  return value === undefined ? undefined : null;
}
