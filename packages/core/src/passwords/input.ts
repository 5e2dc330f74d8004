import { CustosError } from '../errors/index.js';
import { isSecret, type Secret } from '../redaction/secret.js';

/** A password as a login form or the secrets SDK hands it over. */
export type PasswordInput = string | Secret<string>;

/**
 * Longest password accepted, in UTF-8 bytes: generous for passphrases, bounded for the hashers.
 *
 * @example
 * ```ts
 * if (Buffer.byteLength(form.password) > MAX_PASSWORD_BYTES) return reply.code(400).send();
 * ```
 */
export const MAX_PASSWORD_BYTES = 4096;

/** The password's UTF-8 bytes, as given (no normalisation: legacy hashes were made without). */
export function passwordBytes(input: PasswordInput): Buffer {
  const text = isSecret(input) ? input.reveal() : input;
  if (typeof text !== 'string') {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'password must be a string or Secret<string>');
  }
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > MAX_PASSWORD_BYTES) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `password is longer than ${MAX_PASSWORD_BYTES} bytes`,
    );
  }
  return bytes;
}

/** Refuses a stored hash this module cannot read; never echoes it (it is crackable offline). */
export function unsupported(why: string): never {
  throw new CustosError('ERR_PASSWORD_HASH_UNSUPPORTED', `stored password hash: ${why}`);
}
