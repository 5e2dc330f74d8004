/**
 * The custos crypto core: AEAD, HKDF, HMAC, constant-time comparison, random secrets, keyrings
 * with versions and states, and the self-describing ciphertext envelope (see `FORMAT.md`).
 *
 * @example
 * ```ts
 * import { Keyring, loadKeyring, serializeKeyring } from '@custos/core/crypto';
 * const keyring = new Keyring();
 * keyring.createKey('fields');
 * const ct = keyring.encryptToString('fields', 'secret', { aad: { table: 't', column: 'c' } });
 * ```
 * @module
 */
export type { AeadAlgorithm } from './aead.js';
export { type AssociatedData, encodeAssociatedData } from './associated-data.js';
export {
  ENVELOPE_FORMAT_VERSION,
  ENVELOPE_HEADER_LENGTH,
  ENVELOPE_TEXT_PREFIX,
  type EnvelopeHeader,
  envelopeToText,
  isTextEnvelope,
  KEY_ID_LENGTH,
  type ParsedEnvelope,
  parseEnvelope,
} from './envelope.js';
export { type HkdfOptions, hkdfSha256 } from './hkdf.js';
export { constantTimeEqual, hmacSha256 } from './hmac.js';
export {
  type CreateKeyOptions,
  type CryptOptions,
  type DerivedKey,
  type DeriveKeyOptions,
  type EncryptOptions,
  type KeyInfo,
  Keyring,
  type KeyringOptions,
  type KeyVersionInfo,
  type KeyVersionState,
  RANDOM_NONCE_ENCRYPTION_LIMIT,
} from './keyring.js';
export {
  type ReadKeyringFileOptions,
  readKeyringFile,
  writeKeyringFile,
} from './keyring-file.js';
export { type KeyringJson, loadKeyring, serializeKeyring } from './keyring-json.js';
export {
  type GeneratedSecret,
  type GenerateSecretOptions,
  generateSecret,
  type SecretEncoding,
} from './random.js';
