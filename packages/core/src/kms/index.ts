/**
 * `@custos/core/kms`: Vault's transit engine in-process — named keys with versions, rotation
 * (by time and by encryption count), lifecycle states, derived and convergent keys, HMAC,
 * signatures, data keys — with ciphertexts byte-compatible with the custos server's `transit/`.
 *
 * @example
 * ```ts
 * import { LocalKms } from '@custos/core/kms';
 * const kms = new LocalKms();
 * kms.createKey('orders', { derived: true, convergentEncryption: true });
 * kms.encrypt('orders', 'card-on-file', { context: 'tenant-7' });
 * ```
 * @module
 */
export { formatVersioned, parseVersioned } from './ciphertext.js';
export { assertSameCreation, creationConflicts } from './creation-conflicts.js';
export {
  type DataKeyScope,
  localKmsDataKeys,
  type TransitDataKeys,
  transitDataKeys,
} from './field-data-keys.js';
export {
  assertBackupAllowed,
  assertExportAllowed,
  assertReplaceable,
  EXPORT_TYPES,
  type ExportType,
} from './key-custody.js';
export { exportKeyMaterial } from './key-export.js';
export {
  assertTransition,
  canDecrypt,
  canEncrypt,
  canReleaseMaterial,
  effectiveState,
  isKeyState,
  KEY_STATES,
  type KeyState,
} from './key-lifecycle.js';
export {
  defaultPurpose,
  isKeyPurpose,
  isTransitKeyType,
  KEY_PURPOSES,
  type KeyPurpose,
  keyTypeSupport,
  TRANSIT_KEY_TYPES,
  type TransitKeyType,
} from './key-types.js';
export {
  type KeyUsage,
  type KmsCryptOptions,
  LocalKms,
  type LocalKmsOptions,
} from './local-kms.js';
export { assertNotRevoked, materialFingerprints } from './revoked-material.js';
export { decodeBackup, encodeBackup, type TransitKeyBackup } from './transit-backup.js';
export {
  createTransitClient,
  type RemoteCryptOptions,
  type TransitClient,
  type TransitClientOptions,
} from './transit-client.js';
export {
  checkEncryption,
  type DecryptInput,
  decryptWithKey,
  type EncryptInput,
  ERR_TOO_OLD,
  encryptionVersion,
  encryptWithKey,
  hmacWithKey,
  invalidMarshaling,
  randomDataKey,
  type SignatureOptions,
  signWithKey,
  type TransitKeyView,
  verifyHmacWithKey,
  verifyWithKey,
} from './transit-crypto.js';
export {
  assertRotatable,
  type CreateTransitKeyOptions,
  changeState,
  configureKey,
  createKeyPolicy,
  createKeyVersion,
  DEFAULT_ROTATE_AFTER_ENCRYPTIONS,
  describeKey,
  planTrim,
  rotationDue,
  rotationDueByAge,
  type TransitKeyConfigChange,
  type TransitKeyPolicy,
  type TransitKeyVersion,
  validateKeyName,
  versionExhausted,
  wasRevoked,
} from './transit-key.js';
