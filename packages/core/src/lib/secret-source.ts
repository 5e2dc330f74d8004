import { CustosError } from '../errors/index.js';
import { isSecret, type Secret } from '../redaction/secret.js';

/** A secret as a secrets source hands it over. */
export type SecretValue = string | Secret<string>;

/**
 * Where a module reads named secrets: a plain record (`process.env`, a parsed dotenv file) or a
 * getter, such as the secrets SDK's `getOptionalSecret`.
 */
export type SecretSource =
  | Readonly<Record<string, string | undefined>>
  | ((name: string) => SecretValue | undefined | Promise<SecretValue | undefined>);

/**
 * A reader of `source` giving each value as a string, or `undefined` when unset or empty.
 * Refuses a value that is not text, naming the variable, never the value.
 */
export function secretReader(source: SecretSource): (name: string) => Promise<string | undefined> {
  return async (name) => {
    const raw = typeof source === 'function' ? await source(name) : source[name];
    const value = isSecret(raw) ? raw.reveal() : raw;
    if (value !== undefined && typeof value !== 'string') {
      throw new CustosError('ERR_INVALID_ARGUMENT', `${name} must be a string`);
    }
    return value === '' ? undefined : value;
  };
}
