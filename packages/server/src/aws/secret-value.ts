import { invalidParameter, invalidRequest } from './aws-error.js';
import { optionalString } from './aws-fields.js';

/** A secret value as the Secrets Manager API carries it (SecretBinary: base64 in JSON). */
export type SecretValue = { SecretString: string } | { SecretBinary: string };

/** AWS's limit on a secret value. */
const MAX_VALUE_BYTES = 65536;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The value a request sets (`SecretString` or `SecretBinary`, not both), or undefined.
 *
 * @example
 * ```ts
 * secretValueOf({ SecretString: '{"user":"a"}' }); // { SecretString: '{"user":"a"}' }
 * ```
 */
export function secretValueOf(body: Record<string, unknown>): SecretValue | undefined {
  const text = optionalString(body.SecretString, 'SecretString', MAX_VALUE_BYTES);
  const binary = optionalString(
    body.SecretBinary,
    'SecretBinary',
    Math.ceil(MAX_VALUE_BYTES / 3) * 4,
  );
  if (text !== undefined && binary !== undefined)
    throw invalidRequest("You can't specify both a binary secret value and a string secret value.");
  if (text !== undefined) return { SecretString: text };
  if (binary !== undefined) {
    if (!BASE64.test(binary)) throw invalidParameter('SecretBinary must be base64');
    return { SecretBinary: binary };
  }
  return undefined;
}

/**
 * The KV data a value is stored as: `{ SecretString }` or `{ SecretBinary }` (base64), read
 * back exactly as written.
 */
export function dataOfValue(value: SecretValue): Record<string, unknown> {
  return { ...value };
}

/**
 * The value of KV data: a value written through this API as it was written; any other KV data
 * (written through the KV API) as its JSON text, the form key/value secrets take in AWS.
 *
 * @example
 * ```ts
 * valueOfData({ user: 'a', password: 'b' }); // { SecretString: '{"user":"a","password":"b"}' }
 * ```
 */
export function valueOfData(data: Record<string, unknown>): SecretValue {
  const keys = Object.keys(data);
  if (keys.length === 1 && typeof data.SecretString === 'string')
    return { SecretString: data.SecretString };
  if (keys.length === 1 && typeof data.SecretBinary === 'string')
    return { SecretBinary: data.SecretBinary };
  return { SecretString: JSON.stringify(data) };
}
