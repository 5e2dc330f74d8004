import { randomBytes } from 'node:crypto';
import { encodeAssociatedData } from '../crypto/associated-data.js';
import { CustosError, DecryptionFailed } from '../errors/index.js';
import { dataKeyBinding } from '../fields/data-key-binding.js';
import { parseVersioned } from './ciphertext.js';
import type { LocalKms } from './local-kms.js';
import { type TransitClient, TransitRefused } from './transit-client.js';

/**
 * What a data-key service is asked to bind a data key to.
 *
 * @example
 * ```ts
 * const { wrapped } = await dataKeys.generateDataKey({ tenantId: 7 } satisfies DataKeyScope);
 * ```
 */
export interface DataKeyScope {
  readonly tenantId?: string | number | bigint;
  /** A backup's file id instead of a tenant (see `DataKeyContext.backupFileId`). */
  readonly backupFileId?: string;
}

/**
 * Envelope encryption for field ciphers (`createFieldCipher({ kms })`) over transit: a data key
 * is generated here and wrapped by `transit/encrypt` under `keyName`, with the tenant bound as
 * associated data (another tenant's scope cannot unwrap it). The wrapped keys are the same
 * `vault:v<N>:` ciphertexts whether the KMS is the in-process `LocalKms` or a remote server, so
 * an application can move from one to the other without re-encrypting.
 *
 * @example
 * ```ts
 * const dataKeys: TransitDataKeys = transitDataKeys(createTransitClient(), 'fields');
 * const fc = createFieldCipher({ kms: dataKeys });
 * ```
 */
export interface TransitDataKeys {
  generateDataKey(scope: DataKeyScope): Promise<{ plaintext: Uint8Array; wrapped: string }>;
  unwrapDataKey(wrapped: string, scope: DataKeyScope): Promise<Uint8Array>;
  describeWrappedKey(wrapped: string): { keyId: string; keyVersion: number };
  currentKey(): Promise<{ keyId: string; keyVersion: number }>;
}

interface TransitOperations {
  encrypt(plaintext: Buffer, associatedData: Buffer): Promise<{ ciphertext: string }>;
  decrypt(ciphertext: string, associatedData: Buffer): Promise<Buffer>;
  latestVersion(): Promise<number>;
}

function dataKeys(keyName: string, ops: TransitOperations): TransitDataKeys {
  const aad = (scope: DataKeyScope) => encodeAssociatedData(dataKeyBinding(scope));
  return {
    async generateDataKey(scope) {
      const plaintext = randomBytes(32);
      const { ciphertext } = await ops.encrypt(plaintext, aad(scope));
      return { plaintext, wrapped: ciphertext };
    },
    async unwrapDataKey(wrapped, scope) {
      const key = await ops.decrypt(wrapped, aad(scope));
      if (key.length !== 32) {
        key.fill(0);
        throw new CustosError(
          'ERR_INVALID_ARGUMENT',
          'the wrapped value is not a 32-byte data key',
        );
      }
      return key;
    },
    describeWrappedKey(wrapped) {
      return { keyId: keyName, keyVersion: parseVersioned(wrapped).version };
    },
    async currentKey() {
      return { keyId: keyName, keyVersion: await ops.latestVersion() };
    },
  };
}

/**
 * Data keys wrapped by an in-process {@link LocalKms} key.
 *
 * @example
 * ```ts
 * const fc = createFieldCipher({ kms: localKmsDataKeys(kms, 'field-keys') });
 * ```
 */
export function localKmsDataKeys(kms: LocalKms, keyName: string): TransitDataKeys {
  return dataKeys(keyName, {
    encrypt: async (plaintext, associatedData) =>
      kms.encrypt(keyName, plaintext, { associatedData }),
    decrypt: async (ciphertext, associatedData) =>
      kms.decrypt(keyName, ciphertext, { associatedData }),
    latestVersion: async () => kms.readKey(keyName).latest_version as number,
  });
}

/**
 * Data keys wrapped by a transit key on the custos server (or HashiCorp Vault).
 *
 * @example
 * ```ts
 * const transit = createTransitClient({ auth: { roleId, secretId } });
 * const fc = createFieldCipher({ kms: transitDataKeys(transit, 'field-keys') });
 * ```
 */
export function transitDataKeys(client: TransitClient, keyName: string): TransitDataKeys {
  return dataKeys(keyName, {
    encrypt: (plaintext, associatedData) => client.encrypt(keyName, plaintext, { associatedData }),
    async decrypt(ciphertext, associatedData) {
      try {
        return await client.decrypt(keyName, ciphertext, { associatedData });
      } catch (err) {
        // A 400 is the server refusing this wrapped key under this tenant (authentication
        // failed, unknown or retired version): the same ERR_DECRYPTION_FAILED the local KMS and
        // keyring modes give. Refused tokens, 5xx and network failures stay ERR_KMS_REMOTE.
        if (err instanceof TransitRefused && err.status === 400) {
          throw new DecryptionFailed(
            `decryption failed: the data key does not unwrap for this tenant (${err.message})`,
            { cause: err },
          );
        }
        throw err;
      }
    },
    latestVersion: () => client.latestVersion(keyName),
  });
}
