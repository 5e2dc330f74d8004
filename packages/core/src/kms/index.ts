/**
 * `@custos/core/kms`: Vault's transit engine in-process — named keys with versions, rotation
 * (by time and by encryption count), lifecycle states, derived and convergent keys, HMAC,
 * signatures, data keys — with ciphertexts byte-compatible with the custos server's `transit/`;
 * the client of a remote transit engine; data keys for field encryption from either.
 *
 * The engine's building blocks (key policies, versions, custody checks) are not part of this
 * entry: the server reaches them through `@custos/core/internal/transit`, which is unversioned.
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
export {
  type AwsKms,
  type AwsKmsClient,
  type AwsKmsOptions,
  awsEncryptionContext,
  createAwsKms,
} from './cloud/aws-kms.js';
export {
  type AzureKeyVaultKms,
  type AzureKeyVaultKmsOptions,
  type AzureTokenCredential,
  openAzureKeyVaultKms,
} from './cloud/azure-key-vault-kms.js';
export {
  type GcpAuthClient,
  type GcpKms,
  type GcpKmsOptions,
  openGcpKms,
} from './cloud/gcp-kms.js';
export {
  type DataKeyScope,
  localKmsDataKeys,
  type TransitDataKeys,
  transitDataKeys,
} from './field-data-keys.js';
export { isKeyState, KEY_STATES, KEY_TRANSITIONS, type KeyState } from './key-lifecycle.js';
export {
  isKeyPurpose,
  isTransitKeyType,
  KEY_PURPOSES,
  type KeyPurpose,
  TRANSIT_KEY_TYPES,
  type TransitKeyType,
} from './key-types.js';
export {
  type EnvironmentKms,
  type OpenKmsFromEnvironmentOptions,
  openKmsFromEnvironment,
} from './kms-from-environment.js';
export {
  type KeyRotationSettings,
  KMS_PROVIDERS,
  type KmsProviderName,
  type KmsSettings,
  kmsSettingsSchema,
  readKmsSettings,
} from './kms-settings.js';
export {
  type KeyUsage,
  type KmsCryptOptions,
  LocalKms,
  type LocalKmsOptions,
} from './local-kms.js';
export { openPkcs11Kms, type Pkcs11Kms, type Pkcs11KmsOptions } from './pkcs11/pkcs11-kms.js';
export {
  createTransitClient,
  type RemoteCryptOptions,
  type TransitClient,
  type TransitClientOptions,
} from './transit-client.js';
export type { SignatureOptions } from './transit-crypto.js';
export type { CreateTransitKeyOptions, TransitKeyConfigChange } from './transit-key.js';
