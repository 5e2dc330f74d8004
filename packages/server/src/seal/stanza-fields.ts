import { ServerError } from '../errors.js';

/** A configuration error naming the field; `message` never holds a value of a secret field. */
export const invalidSeal = (message: string): never => {
  throw new ServerError('ERR_INVALID_CONFIG', `config: ${message}`);
};

/** Refuses any field of `s` not in `known`, naming it (never its value). */
export function refuseUnknownFields(s: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(s))
    if (!known.includes(key))
      invalidSeal(`unknown field "seal.${key}" (known: ${known.join(', ')})`);
}

/** Each of `fields` absent or a non-empty string. */
export function optionalStrings(s: Record<string, unknown>, fields: readonly string[]): void {
  for (const field of fields)
    if (s[field] !== undefined && (typeof s[field] !== 'string' || s[field] === ''))
      invalidSeal(`seal.${field} must be a non-empty string`);
}

/** Each of `fields` absent or a boolean. */
export function optionalBooleans(s: Record<string, unknown>, fields: readonly string[]): void {
  for (const field of fields)
    if (s[field] !== undefined && typeof s[field] !== 'boolean')
      invalidSeal(`seal.${field} must be true or false`);
}

/**
 * The value of a stanza field, else of the first of `names` set (non-empty) in the
 * environment, else undefined.
 */
export function fieldOrEnv(
  value: string | undefined,
  env: NodeJS.ProcessEnv,
  names: readonly string[],
): string | undefined {
  if (value !== undefined) return value;
  for (const name of names) {
    const found = env[name];
    if (found !== undefined && found !== '') return found;
  }
  return undefined;
}

/**
 * An http(s) endpoint without credentials, query or fragment; plain http only to loopback. The
 * message never repeats the URL (it may carry a password).
 */
export function checkEndpoint(field: string, value: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:'))
    return invalidSeal(`seal.${field} must be an https URL`);
  if (url.username !== '' || url.password !== '')
    return invalidSeal(
      `seal.${field} must not carry credentials in the URL (give them as the seal's credential fields or in the environment)`,
    );
  if (url.search !== '' || url.hash !== '')
    return invalidSeal(`seal.${field} must not have a query or a fragment`);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol === 'http:' && !loopback)
    return invalidSeal(`seal.${field} must be https (plain http only to a loopback address)`);
  return url;
}
