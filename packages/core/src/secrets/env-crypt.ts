import type { AssociatedData } from '../crypto/associated-data.js';
import { parseEnvelope } from '../crypto/envelope.js';
import { CustosError, isCustosError } from '../errors/index.js';
import type { EnvKeySet } from './env-key.js';

/**
 * Marks an encrypted dotenv value: `enc:v2:` + a custos text envelope (`enc:` alone, followed
 * by the envelope, is the first format, which is no longer read; see {@link decryptEnvValue}).
 *
 * @example
 * ```ts
 * value.startsWith(ENCRYPTED_VALUE_PREFIX); // true for "enc:v2:custos:AQE…"
 * ```
 */
export const ENCRYPTED_VALUE_PREFIX = 'enc:';

/** The current format: the envelope's associated data binds the variable name and file mode. */
const CURRENT_PREFIX = `${ENCRYPTED_VALUE_PREFIX}v2:`;

/**
 * Whether a dotenv value is encrypted (`enc:…`), in any format.
 *
 * @example
 * ```ts
 * isEncryptedValue('enc:v2:custos:AQE…'); // true
 * ```
 */
export function isEncryptedValue(value: string): boolean {
  return value.startsWith(ENCRYPTED_VALUE_PREFIX);
}

/**
 * Whether an encrypted value is in the first format (`enc:custos:…`), bound to its variable name
 * only. Such values are refused when read; `encryptEnvFile({ rotate: true })` moves them to the
 * current format. @internal
 */
export function isLegacyEnvValue(value: string): boolean {
  return isEncryptedValue(value) && !value.startsWith(CURRENT_PREFIX);
}

/**
 * The associated data of a value: its variable name and the mode of its file (`''` without a
 * mode). A value moved to another variable, or to a file of another mode (`.env.staging` →
 * `.env.production`), fails to decrypt even when both modes happen to share a key.
 */
function aadFor(name: string, mode: string | undefined): AssociatedData {
  return { purpose: 'custos/dotenv/v2', name, mode: mode ?? '' };
}

/** The first format's associated data: the variable name only. */
function legacyAadFor(name: string): AssociatedData {
  return { purpose: 'custos/dotenv/v1', name };
}

/**
 * Encrypts one dotenv value under the key set's first key, bound to `name` and to the mode of
 * the files the key set serves. Throws `ERR_ENV_KEY_MISSING` when the set holds no key.
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
    CURRENT_PREFIX +
    keys.keyring.encryptToString(keys.primary, value, { aad: aadFor(name, keys.mode) })
  );
}

/**
 * Decrypts one `enc:` dotenv value of variable `name`, found in `where` (a file of the key set's
 * mode; its name is for messages). Errors name the variable, the file and the key id, never the
 * value: `ERR_ENV_KEY_MISSING` (no key with that id among those given), `ERR_DECRYPTION_FAILED`
 * (edited, or moved from another variable or from a file of another mode),
 * `ERR_MALFORMED_CIPHERTEXT`, `ERR_ENV_VALUE_OUTDATED` (the first format, not bound to a mode:
 * re-encrypt with `custos env encrypt --rotate`).
 * @internal
 */
export function decryptEnvValue(
  keys: EnvKeySet,
  name: string,
  value: string,
  where: string,
): string {
  assertCurrentEnvValue(name, value, where);
  return open(keys, name, value.slice(CURRENT_PREFIX.length), where, aadFor(name, keys.mode));
}

/**
 * Refuses a value of the first format: `ERR_ENV_VALUE_OUTDATED`, or `ERR_MALFORMED_CIPHERTEXT`
 * when it is no envelope at all. @internal
 */
export function assertCurrentEnvValue(name: string, value: string, where: string): void {
  if (!isLegacyEnvValue(value)) return;
  envelopeKeyId(value.slice(ENCRYPTED_VALUE_PREFIX.length), name, where);
  throw new CustosError(
    'ERR_ENV_VALUE_OUTDATED',
    `${name} in ${where} is in the first enc: format, which is not bound to the file's mode and is no longer read: re-encrypt the file with custos env encrypt --rotate ${where}`,
  );
}

/**
 * Decrypts a value of the first format (`enc:custos:…`, bound to its name only), for the
 * rotation that moves it to the current one. @internal
 */
export function decryptLegacyEnvValue(
  keys: EnvKeySet,
  name: string,
  value: string,
  where: string,
): string {
  return open(keys, name, value.slice(ENCRYPTED_VALUE_PREFIX.length), where, legacyAadFor(name));
}

function open(
  keys: EnvKeySet,
  name: string,
  envelope: string,
  where: string,
  aad: AssociatedData,
): string {
  const keyId = envelopeKeyId(envelope, name, where);
  if (!keys.keyIds.has(keyId)) {
    throw new CustosError(
      'ERR_ENV_KEY_MISSING',
      `${name} in ${where} needs env key ${keyId}, which is not among the keys given (looked in: ${keys.searched.join(', ')})`,
    );
  }
  try {
    return keys.keyring.decrypt(envelope, { aad }).toString('utf8');
  } catch (err) {
    if (isCustosError(err, 'ERR_DECRYPTION_FAILED')) {
      throw new CustosError(
        'ERR_DECRYPTION_FAILED',
        `${name} in ${where} does not decrypt: the value was edited, or moved from another variable or from a file of another mode`,
      );
    }
    throw err;
  }
}

function envelopeKeyId(envelope: string, name: string, where: string): string {
  try {
    return parseEnvelope(envelope).keyId;
  } catch {
    throw new CustosError(
      'ERR_MALFORMED_CIPHERTEXT',
      `${name} in ${where} starts with "enc:" but is not a custos envelope (truncated or edited?)`,
    );
  }
}
