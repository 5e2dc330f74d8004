import { CustosError } from '@custos/core/errors';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes a base64 request field; `what` names it in the error (Vault's wording where it has one). */
export function base64Field(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value) || value.length % 4 === 1) {
    throw new CustosError('ERR_INVALID_REQUEST', `failed to base64-decode ${what}`);
  }
  return Buffer.from(value, 'base64');
}

/** An optional base64 field (empty string = absent). */
export function optionalBase64(value: unknown, what: string): Buffer | undefined {
  return value === undefined || value === null || value === ''
    ? undefined
    : base64Field(value, what);
}

/** An optional non-negative integer (number or digit string). */
export function optionalInteger(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new CustosError('ERR_INVALID_REQUEST', `${what} must be a non-negative integer`);
  }
  return n;
}

/** An optional boolean (true/false or "true"/"false"). */
export function optionalBoolean(value: unknown, what: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new CustosError('ERR_INVALID_REQUEST', `${what} must be true or false`);
}
