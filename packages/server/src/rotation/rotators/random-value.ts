import { randomInt } from 'node:crypto';
import { CustosError } from '@custos/core/errors';

/** The character sets a generated value may use. */
export const CHARSETS = {
  alphanumeric: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  hex: '0123456789abcdef',
  base64url: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
  printable:
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&()*+,-./:;<=>?@[]^_{|}~',
} as const;

/** How a random value is made: its length, character set and an optional fixed prefix. */
export interface RandomValueSpec {
  readonly length: number;
  readonly charset: keyof typeof CHARSETS;
  readonly prefix: string;
}

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/**
 * Reads `length` (16 to 256, default 32), `charset` (default `alphanumeric`) and `prefix`
 * (default none; at most 32 characters of letters, digits, `_` and `-`) from a policy's settings.
 *
 * @example
 * ```ts
 * randomValueSpec({ length: 40, charset: 'hex' }); // { length: 40, charset: 'hex', prefix: '' }
 * ```
 */
export function randomValueSpec(settings: Readonly<Record<string, unknown>>): RandomValueSpec {
  const length = settings.length ?? 32;
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 16 || length > 256)
    throw invalid('settings.length must be an integer from 16 to 256');
  const charset = settings.charset ?? 'alphanumeric';
  if (typeof charset !== 'string' || !Object.hasOwn(CHARSETS, charset))
    throw invalid(`settings.charset must be one of ${Object.keys(CHARSETS).join(', ')}`);
  const prefix = settings.prefix ?? '';
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_-]{0,32}$/.test(prefix))
    throw invalid('settings.prefix must be at most 32 letters, digits, _ or -');
  return { length, charset: charset as keyof typeof CHARSETS, prefix };
}

/**
 * A value of `spec.length` characters drawn uniformly from the charset by the CSPRNG
 * (`crypto.randomInt`, no modulo bias), after `spec.prefix`.
 *
 * @example
 * ```ts
 * randomValue({ length: 32, charset: 'alphanumeric', prefix: 'sk_' }); // 'sk_' + 32 characters
 * ```
 */
export function randomValue(spec: RandomValueSpec): string {
  const chars = CHARSETS[spec.charset];
  let out = spec.prefix;
  for (let i = 0; i < spec.length; i++) out += chars[randomInt(chars.length)];
  return out;
}
