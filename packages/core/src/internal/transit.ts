/**
 * `@custos/core/internal/transit`: the transit engine's building blocks, shared by `LocalKms`
 * and the custos server's `transit/` so both write the same keys and ciphertexts — key policies
 * and versions, rotation and trimming, lifecycle and custody checks, the per-key operations, the
 * backup codec and the `vault:v<N>:` format.
 *
 * Internal and unversioned: not part of the library's promise. Any release may change or remove
 * any of it; only `@custos/server` imports it. Applications use `@custos/core/kms`.
 *
 * @example
 * ```ts
 * import { createKeyPolicy, encryptWithKey } from '@custos/core/internal/transit';
 * ```
 * @module
 */
export { parseVersioned } from '../kms/ciphertext.js';
export { assertSameCreation } from '../kms/creation-conflicts.js';
export {
  assertBackupAllowed,
  assertExportAllowed,
  assertReplaceable,
  EXPORT_TYPES,
  type ExportType,
} from '../kms/key-custody.js';
export { exportKeyMaterial } from '../kms/key-export.js';
export {
  IMPORTABLE_KEY_TYPES,
  importedKeyVersion,
  newWrappingKey,
  unwrapImportedKey,
} from '../kms/key-import.js';
export { effectiveState } from '../kms/key-lifecycle.js';
export { type KeyMaterial, newKeyMaterialAsync } from '../kms/key-material.js';
export { assertNotRevoked, materialFingerprints } from '../kms/revoked-material.js';
export { decodeBackup, encodeBackup, type TransitKeyBackup } from '../kms/transit-backup.js';
export {
  checkEncryption,
  decryptWithKey,
  encryptWithKey,
  hmacWithKey,
  invalidMarshaling,
  randomDataKey,
  signWithKey,
  type TransitKeyView,
  verifyHmacWithKey,
  verifyWithKey,
} from '../kms/transit-crypto.js';
export {
  assertRotatable,
  changeState,
  configureKey,
  createKeyPolicy,
  createKeyVersion,
  describeKey,
  planTrim,
  rotatesItself,
  rotationDue,
  rotationDueByAge,
  type TransitKeyPolicy,
  type TransitKeyVersion,
  validateKeyName,
  versionExhausted,
  wasRevoked,
} from '../kms/transit-key.js';
