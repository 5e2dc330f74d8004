/**
 * Field-level encryption: typed values encrypted into text envelopes bound to their table,
 * column, row and tenant; blind indexes and deterministic columns for equality lookups;
 * per-tenant keys (HKDF from a keyring, or data keys wrapped by a KMS); row helpers for plain
 * drivers. ORM adapters live in `@custos/core/fields/drizzle` and `@custos/core/fields/kysely`;
 * re-encryption after a rotation is `custos reencrypt` (see `docs/field-encryption.md`).
 *
 * @example
 * ```ts
 * import { createFieldCipher } from '@custos/core/fields';
 * const fc = createFieldCipher({ keyring });
 * const stored = fc.encrypt(new Date('1990-04-01'), { table: 'patients', column: 'dob', rowId: 7 });
 * fc.decrypt(stored, { table: 'patients', column: 'dob', rowId: 7 }); // Date
 * ```
 * @module
 */
export {
  blindIndexVersion,
  DEFAULT_BLIND_INDEX_BITS,
  DEFAULT_BLIND_INDEX_KEY_NAME,
} from './blind-index.js';
export { type CachingKmsOptions, createCachingKms } from './caching-kms.js';
export { createFieldCipher } from './field-cipher.js';
export {
  createKeyringKms,
  type DataKeyContext,
  type DataKeyPurpose,
  dataKeyBinding,
  type FieldKms,
  type GeneratedDataKey,
  type KeyringKmsOptions,
  type KmsKeyVersion,
} from './field-kms.js';
export type { KeyringFieldCipherOptions } from './keyring-field-cipher.js';
export type { DataKeyCacheOptions, KmsFieldCipherOptions } from './kms-field-cipher.js';
export {
  type AsyncRowCodec,
  type BlindIndexColumn,
  createRowCodec,
  type EncryptedColumn,
  type RowCodec,
  type TableEncryption,
} from './rows.js';
export type {
  AnyFieldCipher,
  AsyncFieldCipher,
  BlindIndexOptions,
  CiphertextInfo,
  CurrentKeys,
  FieldCipher,
  FieldContext,
  FieldIdentifier,
  FieldValue,
  PaddingOptions,
  SlowBlindIndexOptions,
} from './types.js';
export { decodeFieldValue, encodeFieldValue } from './value-codec.js';
