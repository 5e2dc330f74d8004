import { CustosError } from '@custos/core/errors';

/** A list of names given as an array or a comma-separated string (Vault accepts both). */
export function stringList(value: unknown, field: string): string[] {
  if (value === undefined || value === null || value === '') return [];
  const items = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(items) || !items.every((i) => typeof i === 'string')) {
    throw new CustosError('ERR_INVALID_REQUEST', `${field} must be a list of strings`);
  }
  return items.map((i) => i.trim()).filter((i) => i.length > 0);
}

/** A string-to-string map (token `meta`, secret ID `metadata`). */
export function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value === 'string') {
    try {
      return stringMap(JSON.parse(value), field);
    } catch {
      throw new CustosError('ERR_INVALID_REQUEST', `${field} must be an object of strings`);
    }
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new CustosError('ERR_INVALID_REQUEST', `${field} must be an object of strings`);
  }
  const entries = Object.entries(value);
  // No key is named: a map sent as a JSON string is HMAC'd whole in the audit log, keys too.
  if (!entries.every(([, v]) => typeof v === 'string'))
    throw new CustosError('ERR_INVALID_REQUEST', `${field} values must be strings`);
  // fromEntries keeps a `__proto__` key as a key (an assignment would set the prototype).
  return Object.fromEntries(entries) as Record<string, string>;
}

/** A non-negative integer parameter (number or digit string). */
export function count(value: unknown, field: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new CustosError('ERR_INVALID_REQUEST', `${field} must be a non-negative integer`);
  }
  return n;
}

/** A boolean parameter (true/false or "true"/"false"). */
export function flag(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new CustosError('ERR_INVALID_REQUEST', `${field} must be true or false`);
}
