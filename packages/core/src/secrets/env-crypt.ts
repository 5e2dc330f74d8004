import { parseEnvelope } from '../crypto/envelope.js';
import { CustosError, isCustosError } from '../errors/index.js';
import type { EnvKeySet } from './env-key.js';

/**
 * Marks an encrypted dotenv value: `enc:` + a custos text envelope.
 *
 * @example
 * ```ts
 * value.slice(ENCRYPTED_VALUE_PREFIX.length); // "custos:AQE…"
 * ```
 */
export const ENCRYPTED_VALUE_PREFIX = 'enc:';

/**
 * Whether a dotenv value is encrypted (`enc:custos:…`).
 *
 * @example
 * ```ts
 * isEncryptedValue('enc:custos:AQE…'); // true
 * ```
 */
export function isEncryptedValue(value: string): boolean {
  return value.startsWith(ENCRYPTED_VALUE_PREFIX);
}

/** The associated data binding a value to its variable name: it cannot be moved. */
function aadFor(name: string) {
  return { purpose: 'custos/dotenv/v1', name };
}

/**
 * Encrypts one dotenv value under the key set's first key, bound to `name`.
 * Throws `ERR_ENV_KEY_MISSING` when the set holds no key.
 * @internal
 */
export function encryptEnvValue(keys: EnvKeySet, name: string, value: string): string {
  if (keys.primary === undefined) {
    throw new CustosError(
      'ERR_ENV_KEY_MISSING',
      `no env key to encrypt ${name} with (looked in: ${keys.searched.join(', ')})`,
    );
  }
  return (
    ENCRYPTED_VALUE_PREFIX +
    keys.keyring.encryptToString(keys.primary, value, { aad: aadFor(name) })
  );
}

/**
 * Decrypts one `enc:` dotenv value of variable `name`, found in `where` (a file name, for
 * messages). Errors name the variable, the file and the key id, never the value:
 * `ERR_ENV_KEY_MISSING` (no key with that id among those given), `ERR_DECRYPTION_FAILED`
 * (edited, or moved from another variable), `ERR_MALFORMED_CIPHERTEXT`.
 * @internal
 */
export function decryptEnvValue(
  keys: EnvKeySet,
  name: string,
  value: string,
  where: string,
): string {
  const envelope = value.slice(ENCRYPTED_VALUE_PREFIX.length);
  let keyId: string;
  try {
    keyId = parseEnvelope(envelope).keyId;
  } catch {
    throw new CustosError(
      'ERR_MALFORMED_CIPHERTEXT',
      `${name} in ${where} starts with "enc:" but is not a custos envelope (truncated or edited?)`,
    );
  }
  if (!keys.keyIds.has(keyId)) {
    throw new CustosError(
      'ERR_ENV_KEY_MISSING',
      `${name} in ${where} needs env key ${keyId}, which is not among the keys given (looked in: ${keys.searched.join(', ')})`,
    );
  }
  try {
    return keys.keyring.decrypt(envelope, { aad: aadFor(name) }).toString('utf8');
  } catch (err) {
    if (isCustosError(err, 'ERR_DECRYPTION_FAILED')) {
      throw new CustosError(
        'ERR_DECRYPTION_FAILED',
        `${name} in ${where} does not decrypt: the value was edited, or moved from another variable`,
      );
    }
    throw err;
  }
}
