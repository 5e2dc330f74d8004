/**
 * Request field coercion: one reader per Vault field type (`TypeInt`, `TypeBool`,
 * `TypeCommaStringSlice`, `TypeKVPairs`, `TypeDurationSecond`, base64 bytes, time). Every route
 * reads its fields through these, so one type is accepted, and refused, the same way everywhere.
 *
 * A refusal is `ERR_INVALID_REQUEST` (HTTP 400) naming the field, never the value: request
 * values do not reach error texts (they are secrets as often as not).
 *
 * Whether a field is "absent" differs by type, as it did in Vault's API before custos: an
 * `optional…` reader says which values count as absent.
 *
 * @example
 * ```ts
 * const bits = optionalInt(body.bits, 'bits') ?? 256;
 * const ttl = optionalDuration(body.ttl, 'ttl');
 * ```
 * @module
 */
import { CustosError } from '@custos/core/errors';
import { parseDurationSeconds } from '../lib/duration.js';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

const DIGITS = /^\d+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * A non-negative integer: a JSON number or a digit string. `message` replaces the default
 * refusal where Vault has its own wording (KV's check-and-set).
 *
 * @example
 * ```ts
 * intField('3', 'num_uses'); // 3
 * ```
 */
export function intField(
  value: unknown,
  field: string,
  message = `${field} must be a non-negative integer`,
): number {
  const n = typeof value === 'string' && DIGITS.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw invalid(message);
  return n;
}

/**
 * {@link intField}, absent when `undefined`, `null` or `''` (`message` as there).
 *
 * @example
 * ```ts
 * optionalInt(body.key_version, 'key_version'); // undefined when not given
 * ```
 */
export function optionalInt(value: unknown, field: string, message?: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return intField(value, field, message);
}

/**
 * A boolean: `true`/`false` or the strings `"true"`/`"false"`.
 *
 * @example
 * ```ts
 * boolField('true', 'force'); // true
 * ```
 */
export function boolField(value: unknown, field: string): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw invalid(`${field} must be true or false`);
}

/**
 * {@link boolField}, absent when `undefined` or `null`.
 *
 * @example
 * ```ts
 * optionalBool(body.exportable, 'exportable'); // undefined when not given
 * ```
 */
export function optionalBool(value: unknown, field: string): boolean | undefined {
  return value === undefined || value === null ? undefined : boolField(value, field);
}

/**
 * {@link boolField}, `fallback` when `undefined` (a `null` is refused).
 *
 * @example
 * ```ts
 * boolOr(body.renewable, 'renewable', true);
 * ```
 */
export function boolOr(value: unknown, field: string, fallback: boolean): boolean {
  return value === undefined ? fallback : boolField(value, field);
}

/**
 * A JSON boolean only (KV settings, which Vault decodes strictly).
 *
 * @example
 * ```ts
 * jsonBool(body.cas_required, 'cas_required');
 * ```
 */
export function jsonBool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalid(`${field} must be a boolean`);
  return value;
}

/**
 * A list of names given as an array or a comma-separated string (Vault accepts both); items
 * are trimmed and empty ones dropped. Absent (`[]`) when `undefined`, `null` or `''`.
 *
 * @example
 * ```ts
 * stringList('app, ops', 'policies'); // ['app', 'ops']
 * ```
 */
export function stringList(value: unknown, field: string): string[] {
  if (value === undefined || value === null || value === '') return [];
  const items = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(items) || !items.every((i) => typeof i === 'string')) {
    throw invalid(`${field} must be a list of strings`);
  }
  return items.map((i) => i.trim()).filter((i) => i.length > 0);
}

/**
 * A string-to-string map (token `meta`, secret ID `metadata`), as an object or its JSON text.
 * Absent (`{}`) when `undefined` or `null`.
 *
 * @example
 * ```ts
 * stringMap('{"team":"ops"}', 'meta'); // { team: 'ops' }
 * ```
 */
export function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value === 'string') {
    try {
      return stringMap(JSON.parse(value), field);
    } catch {
      throw invalid(`${field} must be an object of strings`);
    }
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(`${field} must be an object of strings`);
  }
  const entries = Object.entries(value);
  // No key is named: a map sent as a JSON string is HMAC'd whole in the audit log, keys too.
  if (!entries.every(([, v]) => typeof v === 'string'))
    throw invalid(`${field} values must be strings`);
  // fromEntries keeps a `__proto__` key as a key (an assignment would set the prototype).
  return Object.fromEntries(entries) as Record<string, string>;
}

/**
 * A duration in seconds, with the library's one grammar (`300`, `"90s"`, `"1h30m"`, `"7d"`).
 *
 * @example
 * ```ts
 * durationField('1h', 'ttl'); // 3600
 * ```
 */
export function durationField(value: unknown, field: string): number {
  return parseDurationSeconds(value, field);
}

/**
 * {@link durationField}, absent when `undefined`.
 *
 * @example
 * ```ts
 * optionalDuration(body.increment, 'increment'); // undefined when not given
 * ```
 */
export function optionalDuration(value: unknown, field: string): number | undefined {
  return value === undefined ? undefined : parseDurationSeconds(value, field);
}

/**
 * Bytes given in standard base64; the refusal names the field ("failed to base64-decode …").
 *
 * @example
 * ```ts
 * base64Field(item.plaintext, 'plaintext');
 * ```
 */
export function base64Field(value: unknown, field: string): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value) || value.length % 4 === 1) {
    throw invalid(`failed to base64-decode ${field}`);
  }
  return Buffer.from(value, 'base64');
}

/**
 * {@link base64Field}, absent when `undefined`, `null` or `''`.
 *
 * @example
 * ```ts
 * optionalBase64(body.context, 'context');
 * ```
 */
export function optionalBase64(value: unknown, field: string): Buffer | undefined {
  return value === undefined || value === null || value === ''
    ? undefined
    : base64Field(value, field);
}

/**
 * A point in time as ISO 8601 text, returned normalised; `null` or `''` clears it (`null`),
 * `undefined` leaves it as it is.
 *
 * @example
 * ```ts
 * timeField('2030-01-01T00:00:00Z', 'expires_at'); // '2030-01-01T00:00:00.000Z'
 * ```
 */
export function timeField(value: unknown, field: string): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null || value === '') return null;
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
    throw invalid(`${field} must be an ISO 8601 time`);
  return new Date(value).toISOString();
}

/**
 * A string that must be given and not empty ("missing …" otherwise).
 *
 * @example
 * ```ts
 * requiredString(body.accessor, 'accessor');
 * ```
 */
export function requiredString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(`missing ${field}`);
  return value;
}

/**
 * A string, absent when `undefined` ("… must be a string" when it is not one).
 *
 * @example
 * ```ts
 * optionalString(body.name, 'name'); // undefined when not given
 * ```
 */
export function optionalString(value: unknown, field: string): string | undefined {
  if (value !== undefined && typeof value !== 'string') throw invalid(`${field} must be a string`);
  return value;
}
