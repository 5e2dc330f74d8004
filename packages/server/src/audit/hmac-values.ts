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
 * in several fields) is HMAC'd once. The broker drops a request's own values when its response
 * is logged; only the caller's own values and code constants are kept across requests
 * (shared-hmacs.ts), never what a request carried.
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
 * `value` is read as `JSON.stringify` reads it (`toJSON`, boxed values, non-finite numbers as
 * `null`, functions and `undefined` left out of objects and `null` in arrays), so a response
 * object and the text it was sent as give the same result: the boundary hands the handler's
 * object over instead of parsing the text again (hmac-values.test.ts checks any value).
 *
 * @example
 * ```ts
 * hmacScalars(key, { pin: 1234, ok: true, note: null });
 * // { pin: 'hmac-sha256:…', ok: 'hmac-sha256:…', note: null }
 * ```
 */
export function hmacScalars(key: AuditKey, value: unknown, memo?: HmacMemo): unknown {
  return hmacJson(key, value, '', memo);
}

/** {@link hmacScalars} of `value`, found under `name` (what `toJSON` is given). */
function hmacJson(key: AuditKey, value: unknown, name: string, memo?: HmacMemo): unknown {
  let json = value;
  if (typeof json === 'object' && json !== null) {
    const toJSON = (json as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') json = toJSON.call(json, name);
  }
  if (json instanceof Number || json instanceof String || json instanceof Boolean)
    json = json.valueOf();
  if (typeof json === 'string' || typeof json === 'boolean') return hmacValue(key, json, memo);
  if (typeof json === 'number') return Number.isFinite(json) ? hmacValue(key, json, memo) : null;
  if (Array.isArray(json)) {
    const out = new Array<unknown>(json.length);
    for (let i = 0; i < json.length; i++) out[i] = hmacJson(key, json[i], String(i), memo) ?? null;
    return out;
  }
  if (typeof json === 'object' && json !== null) {
    const source = json as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(source)) {
      const hashed = hmacJson(key, source[k], k, memo);
      if (hashed === undefined) continue; // left out, as JSON leaves out undefined and functions
      // A `__proto__` field stays a field: assigning it would set the prototype and drop it
      // from the entry. Every other key is an own property by assignment (no other setter).
      if (k === '__proto__') setOwn(out, k, hashed);
      else out[k] = hashed;
    }
    return out;
  }
  // null stays; undefined, functions and symbols are no JSON value.
  return json === null ? null : undefined;
}
