import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Agent } from 'node:https';
import { encodeAssociatedData } from '../../crypto/associated-data.js';
import { CustosError, DecryptionFailed, KeyDisabled } from '../../errors/index.js';
import { type DataKeyContext, dataKeyBinding } from '../../fields/data-key-binding.js';
import type { FieldKms, KmsKeyVersion } from '../../fields/field-kms.js';
import { azureFailure } from './azure-errors.js';
import { DATA_KEY_BYTES, requireDataKey, serviceBytes } from './data-key-context.js';

/**
 * An Azure `TokenCredential` (`DefaultAzureCredential`, `ClientSecretCredential`,
 * `ManagedIdentityCredential`…), kept structural as `@azure/identity` is optional.
 */
export interface AzureTokenCredential {
  getToken(
    scopes: string | string[],
    options?: object,
  ): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

/** Options of {@link openAzureKeyVaultKms}. */
export interface AzureKeyVaultKmsOptions {
  /** The vault (`https://<name>.vault.azure.net`) or Managed HSM (`https://<name>.managedhsm.azure.net`). */
  readonly vaultUrl: string;
  /** The key's name: an RSA key (RSA-OAEP-256) or, on a Managed HSM, an AES-256 key (A256KW). */
  readonly keyName: string;
  /** Pin new wraps to this version; default: the key's current version, followed on rotation. */
  readonly keyVersion?: string;
  /** Default `DefaultAzureCredential` (environment, workload or managed identity, Azure CLI). */
  readonly credential?: AzureTokenCredential;
  /** Seconds the current key version is reused before asking again; default 60. */
  readonly keyRefreshSeconds?: number;
  /** An HTTPS agent for the Key Vault calls (a private CA, a proxy). */
  readonly agent?: Agent;
  /**
   * Skip the check that the authentication challenge's resource matches the vault's domain
   * (only for a vault behind a name that is not `*.vault.azure.net`, or tests); default false.
   */
  readonly disableChallengeResourceVerification?: boolean;
}

/** A {@link FieldKms} on an Azure Key Vault or Managed HSM key. */
export interface AzureKeyVaultKms extends FieldKms {
  /**
   * Wraps a 32-byte key the caller holds, in the form {@link FieldKms.unwrapDataKey} opens (the
   * custos server's root key under the `azurekeyvault` seal).
   *
   * @example
   * ```ts
   * const wrapped = await kms.wrapKey(rootKey, { sealClusterId: clusterId });
   * ```
   */
  wrapKey(key: Buffer, context: DataKeyContext): Promise<string>;
  /** Forgets the cached clients. */
  close(): Promise<void>;
}

interface VaultKey {
  id?: string;
  key?: { kty?: string };
  properties: { version?: string; enabled?: boolean; createdOn?: Date };
}
interface CryptographyClient {
  wrapKey(algorithm: string, key: Uint8Array): Promise<{ result: Uint8Array }>;
  unwrapKey(algorithm: string, encryptedKey: Uint8Array): Promise<{ result: Uint8Array }>;
}
interface KeyVaultModule {
  KeyClient: new (
    url: string,
    credential: AzureTokenCredential,
    options: object,
  ) => { getKey(name: string, options?: { version?: string }): Promise<VaultKey> };
  CryptographyClient: new (
    key: string | VaultKey,
    credential: AzureTokenCredential,
    options: object,
  ) => CryptographyClient;
}

type Algorithm = 'RSA-OAEP-256' | 'A256KW';
interface CurrentVersion {
  readonly version: string;
  readonly created: number;
  readonly algorithm: Algorithm;
  readonly key: VaultKey;
  readonly fetchedAt: number;
}

const WRAPPED =
  /^azkv:([1-9][0-9]{0,11}):([A-Za-z0-9]{1,64}):(RSA-OAEP-256|A256KW):([A-Za-z0-9_-]+):([A-Za-z0-9_-]+)$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Loads an optional Azure package, or fails with `ERR_KMS_PROVIDER_MISSING` naming it. */
export async function importAzurePackage<T>(name: string): Promise<T> {
  try {
    const mod = (await import(name)) as T & { default?: T };
    return mod;
  } catch (err) {
    throw new CustosError(
      'ERR_KMS_PROVIDER_MISSING',
      `the Azure Key Vault provider needs the optional peer dependency ${name}: npm install @azure/keyvault-keys @azure/identity`,
      { cause: err },
    );
  }
}

/**
 * Opens a field-encryption KMS on an Azure Key Vault (or Managed HSM) key through the official
 * `@azure/keyvault-keys` client (with `@azure/identity` for the default credential; both optional
 * peer dependencies, loaded here).
 *
 * Key Vault's `wrapKey` takes no associated data, so the tenant is bound one layer down: Key
 * Vault wraps a random 32-byte key-encryption key (RSA-OAEP-256 for RSA keys, A256KW for AES
 * keys), and that key seals the data key with AES-256-GCM whose associated data names the
 * purpose, the tenant and the Key Vault key version. Another tenant's context fails the GCM tag
 * (`ERR_DECRYPTION_FAILED`) even though Key Vault unwraps. The wrapped key records the version
 * that wrapped it — `azkv:<created>:<version>:<alg>:<wrapped KEK>:<sealed data key>` — and is
 * unwrapped with that version after a rotation, while new data keys use the current version
 * (rechecked every `keyRefreshSeconds`, and on each `currentKey()`). Key Vault versions are
 * opaque ids; the number custos reports for one is its creation time in Unix seconds, which
 * grows with each rotation.
 *
 * A disabled current version is refused before wrapping (Key Vault itself would still wrap with
 * it). Errors: `ERR_KMS_PROVIDER_MISSING`, `ERR_KMS_LOGIN_FAILED`, `ERR_PERMISSION_DENIED`,
 * `ERR_KEY_NOT_FOUND`, `ERR_KEY_DISABLED`, `ERR_DECRYPTION_FAILED`, `ERR_KMS_PROVIDER`; messages
 * carry the HTTP status and Key Vault's error code, never a value.
 *
 * @example
 * ```ts
 * const kms = await openAzureKeyVaultKms({
 *   vaultUrl: 'https://acme-fields.vault.azure.net', keyName: 'field-keys',
 * });
 * const fc = createFieldCipher({ kms: createCachingKms(kms) });
 * ```
 */
export async function openAzureKeyVaultKms(
  options: AzureKeyVaultKmsOptions,
): Promise<AzureKeyVaultKms> {
  const { vaultUrl, keyName } = options;
  let url: URL | undefined;
  try {
    url = new URL(vaultUrl);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:' || (url.pathname !== '/' && url.pathname !== '')) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'vaultUrl must be an https:// vault URL');
  }
  if (typeof keyName !== 'string' || !/^[A-Za-z0-9-]{1,127}$/.test(keyName)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'keyName must be a Key Vault key name');
  }
  if (options.keyVersion !== undefined && !/^[A-Za-z0-9]{1,64}$/.test(options.keyVersion)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'keyVersion must be a Key Vault key version');
  }
  const refreshMs = (options.keyRefreshSeconds ?? 60) * 1000;
  if (!(refreshMs >= 0 && Number.isFinite(refreshMs))) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'keyRefreshSeconds must be 0 or more');
  }
  const keys = await importAzurePackage<KeyVaultModule>('@azure/keyvault-keys');
  const credential =
    options.credential ??
    new (
      await importAzurePackage<{ DefaultAzureCredential: new () => AzureTokenCredential }>(
        '@azure/identity',
      )
    ).DefaultAzureCredential();
  const origin = url.origin;
  const clientOptions = {
    ...(options.agent === undefined ? {} : { agent: options.agent }),
    ...(options.disableChallengeResourceVerification === true
      ? { disableChallengeResourceVerification: true }
      : {}),
  };
  const keyClient = new keys.KeyClient(origin, credential, clientOptions);
  const cryptoClients = new Map<string, CryptographyClient>();
  const cryptoClient = (version: string, key?: VaultKey) => {
    let client = cryptoClients.get(version);
    if (client === undefined) {
      client = new keys.CryptographyClient(
        key ?? `${origin}/keys/${keyName}/${version}`,
        credential,
        clientOptions,
      );
      cryptoClients.set(version, client);
    }
    return client;
  };

  let current: CurrentVersion | undefined;
  const fetchCurrent = async (): Promise<CurrentVersion> => {
    let key: VaultKey;
    try {
      key = await keyClient.getKey(
        keyName,
        options.keyVersion === undefined ? {} : { version: options.keyVersion },
      );
    } catch (err) {
      throw azureFailure(err, `reading key ${keyName}`, 'get');
    }
    const { version, createdOn, enabled } = key.properties;
    if (typeof version !== 'string' || !/^[A-Za-z0-9]{1,64}$/.test(version)) {
      throw new CustosError('ERR_KMS_PROVIDER', 'Key Vault answered without a key version');
    }
    if (!(createdOn instanceof Date) || !(createdOn.getTime() >= 1000)) {
      throw new CustosError('ERR_KMS_PROVIDER', 'Key Vault answered without a creation time');
    }
    if (enabled === false) {
      throw new KeyDisabled(`key ${keyName} version ${version} is disabled in Key Vault`);
    }
    current = {
      version,
      created: Math.floor(createdOn.getTime() / 1000),
      algorithm: algorithmFor(key.key?.kty),
      key,
      fetchedAt: Date.now(),
    };
    return current;
  };

  const describe = (wrapped: string): KmsKeyVersion => ({
    keyId: `${origin}/keys/${keyName}`,
    keyVersion: parseWrapped(wrapped).created,
  });

  /** Wraps `plaintext` (32 bytes, left as it is) under a fresh KEK that Key Vault wraps. */
  const wrapUnder = async (plaintext: Buffer, context: DataKeyContext): Promise<string> => {
    const use =
      current !== undefined && Date.now() - current.fetchedAt < refreshMs
        ? current
        : await fetchCurrent();
    const header = `azkv:${use.created}:${use.version}:${use.algorithm}`;
    const kek = randomBytes(32);
    try {
      let wrappedKek: Buffer;
      try {
        const { result } = await cryptoClient(use.version, use.key).wrapKey(use.algorithm, kek);
        wrappedKek = serviceBytes(result, 'a wrapped key');
      } catch (err) {
        throw azureFailure(err, `wrapping a data key under ${keyName}`, 'wrapKey');
      }
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(sealingAad(context, header));
      const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      const body = Buffer.concat([iv, sealed]).toString('base64url');
      return `${header}:${wrappedKek.toString('base64url')}:${body}`;
    } finally {
      kek.fill(0);
    }
  };

  return {
    async generateDataKey(context) {
      const plaintext = randomBytes(DATA_KEY_BYTES);
      try {
        return { plaintext, wrapped: await wrapUnder(plaintext, context) };
      } catch (err) {
        plaintext.fill(0);
        throw err;
      }
    },
    async wrapKey(key, context) {
      if (!Buffer.isBuffer(key) || key.length !== DATA_KEY_BYTES) {
        throw new CustosError('ERR_INVALID_ARGUMENT', 'wrapKey takes a 32-byte key');
      }
      return wrapUnder(key, context);
    },
    async unwrapDataKey(wrapped, context) {
      const parsed = parseWrapped(wrapped);
      let kek: Buffer;
      try {
        const { result } = await cryptoClient(parsed.version).unwrapKey(
          parsed.algorithm,
          parsed.wrappedKek,
        );
        kek = Buffer.from(serviceBytes(result, 'an unwrapped key'));
      } catch (err) {
        throw azureFailure(err, `unwrapping a data key under ${keyName}`, 'unwrapKey');
      }
      try {
        if (kek.length !== 32) {
          throw new DecryptionFailed(
            'decryption failed: Key Vault unwrapped a key of the wrong size',
          );
        }
        const decipher = createDecipheriv('aes-256-gcm', kek, parsed.iv, {
          authTagLength: TAG_BYTES,
        });
        decipher.setAAD(sealingAad(context, parsed.header));
        decipher.setAuthTag(parsed.tag);
        let key: Buffer;
        try {
          key = Buffer.concat([decipher.update(parsed.sealed), decipher.final()]);
        } catch {
          throw new DecryptionFailed(
            'decryption failed: the data key does not unwrap for this tenant',
          );
        }
        return requireDataKey(key);
      } finally {
        kek.fill(0);
      }
    },
    describeWrappedKey: describe,
    async currentKey() {
      const use = await fetchCurrent();
      return { keyId: `${origin}/keys/${keyName}`, keyVersion: use.created };
    },
    async close() {
      cryptoClients.clear();
      current = undefined;
    },
  };
}

function algorithmFor(kty: string | undefined): Algorithm {
  if (kty === 'RSA' || kty === 'RSA-HSM') return 'RSA-OAEP-256';
  if (kty === 'oct' || kty === 'oct-HSM') return 'A256KW';
  throw new CustosError(
    'ERR_KMS_CONFIG',
    `the Key Vault key must be an RSA key or an AES key (oct-HSM) to wrap data keys, not ${JSON.stringify(kty ?? 'unknown')}`,
  );
}

/**
 * What the data key's AES-GCM layer authenticates: purpose, tenant (or backup file), and the
 * wrapping key version.
 */
function sealingAad(context: DataKeyContext, header: string): Buffer {
  return encodeAssociatedData({ ...dataKeyBinding(context), wrappedBy: header });
}

function parseWrapped(wrapped: string) {
  const match = typeof wrapped === 'string' ? WRAPPED.exec(wrapped) : null;
  const body = match === null ? undefined : Buffer.from(match[5] as string, 'base64url');
  const wrappedKek = match === null ? undefined : Buffer.from(match[4] as string, 'base64url');
  if (
    match === null ||
    body === undefined ||
    wrappedKek === undefined ||
    wrappedKek.length === 0 ||
    body.length !== IV_BYTES + DATA_KEY_BYTES + TAG_BYTES
  ) {
    throw new CustosError(
      'ERR_MALFORMED_CIPHERTEXT',
      'the wrapped data key is not an azkv:<created>:<version>:<alg>:<key>:<data key> value of the right length',
    );
  }
  return {
    header: `azkv:${match[1]}:${match[2]}:${match[3]}`,
    created: Number(match[1]),
    version: match[2] as string,
    algorithm: match[3] as Algorithm,
    wrappedKek,
    iv: body.subarray(0, IV_BYTES),
    sealed: body.subarray(IV_BYTES, IV_BYTES + DATA_KEY_BYTES),
    tag: body.subarray(IV_BYTES + DATA_KEY_BYTES),
  };
}
