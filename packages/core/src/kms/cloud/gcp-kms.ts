import { randomBytes } from 'node:crypto';
import { CustosError, DecryptionFailed } from '../../errors/index.js';
import type { DataKeyContext } from '../../fields/data-key-binding.js';
import type { FieldKms, KmsKeyVersion } from '../../fields/field-kms.js';
import { DATA_KEY_BYTES, dataKeyAad, requireDataKey, serviceBytes } from './data-key-context.js';
import { gcpFailure } from './gcp-errors.js';

/**
 * The part of a google-auth-library client the provider passes on (an `OAuth2Client`,
 * `GoogleAuth`, `ExternalAccountClient`…): kept structural, as `@google-cloud/kms` is optional.
 */
export type GcpAuthClient = object;

/** Options of {@link openGcpKms}. */
export interface GcpKmsOptions {
  /**
   * The CryptoKey's full resource name:
   * `projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>` (purpose
   * ENCRYPT_DECRYPT). Its primary version encrypts; any enabled version decrypts what it made.
   */
  readonly keyName: string;
  /** Credentials; default Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`…). */
  readonly authClient?: GcpAuthClient;
  /** A service account key file (as `GOOGLE_APPLICATION_CREDENTIALS`); ignored with `authClient`. */
  readonly keyFilename?: string;
  /** Host of the API; default `cloudkms.googleapis.com`. */
  readonly apiEndpoint?: string;
  /** Port of the API; default 443. */
  readonly port?: number;
}

/** A {@link FieldKms} on a Google Cloud KMS CryptoKey. */
export interface GcpKms extends FieldKms {
  /**
   * Wraps a 32-byte key the caller holds, in the form {@link FieldKms.unwrapDataKey} opens (the
   * custos server's root key under the `gcpckms` seal).
   *
   * @example
   * ```ts
   * const wrapped = await kms.wrapKey(rootKey, { sealClusterId: clusterId });
   * ```
   */
  wrapKey(key: Buffer, context: DataKeyContext): Promise<string>;
  /** Releases the client's connections. */
  close(): Promise<void>;
}

/** The slice of `KeyManagementServiceClient` used here. */
interface KmsClient {
  encrypt(request: {
    name: string;
    plaintext: Buffer;
    additionalAuthenticatedData: Buffer;
  }): Promise<[{ name?: string | null; ciphertext?: Uint8Array | string | null }]>;
  decrypt(request: {
    name: string;
    ciphertext: Buffer;
    additionalAuthenticatedData: Buffer;
  }): Promise<[{ plaintext?: Uint8Array | string | null }]>;
  close(): Promise<void>;
}
type KmsModule = {
  KeyManagementServiceClient: new (options: Record<string, unknown>) => KmsClient;
};

// Resource ids as Google spells them (a domain-scoped project id has '.' and ':'): nothing that
// could change the REST path (no '/', '?', '#', '%', and no '..').
const KEY_NAME =
  /^projects\/[A-Za-z0-9][A-Za-z0-9.:-]{0,62}\/locations\/[A-Za-z0-9-]{1,63}\/keyRings\/[A-Za-z0-9_-]{1,63}\/cryptoKeys\/[A-Za-z0-9_-]{1,63}$/;
const VERSION_NAME =
  /^(projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+)\/cryptoKeyVersions\/([1-9][0-9]{0,8})$/;
const WRAPPED = /^gcpkms:v([1-9][0-9]{0,8}):([A-Za-z0-9_-]+)$/;
// What a version probe encrypts: random bytes under AAD no data key uses.
const PROBE_AAD = Buffer.from('custos: which version is primary', 'utf8');

async function importKmsModule(): Promise<KmsModule> {
  try {
    const mod = (await import('@google-cloud/kms')) as unknown as KmsModule & {
      default?: KmsModule;
    };
    return mod.KeyManagementServiceClient === undefined ? (mod.default as KmsModule) : mod;
  } catch (err) {
    throw new CustosError(
      'ERR_KMS_PROVIDER_MISSING',
      'the Google Cloud KMS provider needs the optional peer dependency @google-cloud/kms: npm install @google-cloud/kms',
      { cause: err },
    );
  }
}

/**
 * Opens a field-encryption KMS on a Google Cloud KMS symmetric CryptoKey, through the official
 * `@google-cloud/kms` client (an optional peer dependency, loaded here) over its REST transport.
 * Each data key is 32 random bytes (node:crypto) sent to `encrypt` with the context (tenant)
 * as `additionalAuthenticatedData`, so only the same context decrypts it. Google puts the key
 * version in its ciphertext and decrypts with that version; the version that encrypted is
 * recorded too, `gcpkms:v<version>:<base64url ciphertext>`, so custos sees rotations
 * (`describeWrappedKey`, `currentKey`) without calling the service. `currentKey` learns the
 * primary version by encrypting random bytes (one `encrypt` call, within the
 * `roles/cloudkms.cryptoKeyEncrypterDecrypter` role).
 *
 * Errors: `ERR_KMS_PROVIDER_MISSING` (no `@google-cloud/kms`), `ERR_KMS_LOGIN_FAILED`
 * (credentials refused), `ERR_PERMISSION_DENIED` (no permission on the key),
 * `ERR_KEY_NOT_FOUND`, `ERR_KEY_DISABLED` (the version is disabled or destroyed, or the key
 * cannot encrypt), `ERR_DECRYPTION_FAILED` (another context, a damaged ciphertext),
 * `ERR_KMS_PROVIDER` (anything else). Messages carry Google's status, never a value.
 *
 * @example
 * ```ts
 * const kms = await openGcpKms({
 *   keyName: 'projects/acme/locations/europe-west1/keyRings/app/cryptoKeys/fields',
 * });
 * const fc = createFieldCipher({ kms: createCachingKms(kms) });
 * ```
 */
export async function openGcpKms(options: GcpKmsOptions): Promise<GcpKms> {
  const { keyName } = options;
  if (typeof keyName !== 'string' || !KEY_NAME.test(keyName) || keyName.includes('..')) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'keyName must be projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>',
    );
  }
  const { KeyManagementServiceClient } = await importKmsModule();
  const client = new KeyManagementServiceClient({
    fallback: true,
    ...(options.apiEndpoint === undefined ? {} : { apiEndpoint: options.apiEndpoint }),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.authClient === undefined ? {} : { authClient: options.authClient }),
    ...(options.authClient !== undefined || options.keyFilename === undefined
      ? {}
      : { keyFilename: options.keyFilename }),
  });

  const encrypt = async (plaintext: Buffer, aad: Buffer, doing: string) => {
    let response: Awaited<ReturnType<KmsClient['encrypt']>>[0];
    try {
      [response] = await client.encrypt({
        name: keyName,
        plaintext,
        additionalAuthenticatedData: aad,
      });
    } catch (err) {
      throw gcpFailure(err, doing, 'encrypt');
    }
    const version = versionOf(response.name, keyName);
    return { version, ciphertext: serviceBytes(response.ciphertext, 'a ciphertext') };
  };

  return {
    async generateDataKey(context) {
      const plaintext = randomBytes(DATA_KEY_BYTES);
      try {
        const { version, ciphertext } = await encrypt(
          plaintext,
          dataKeyAad(context),
          'wrapping a data key',
        );
        return { plaintext, wrapped: `gcpkms:v${version}:${ciphertext.toString('base64url')}` };
      } catch (err) {
        plaintext.fill(0);
        throw err;
      }
    },
    async wrapKey(key, context) {
      if (!Buffer.isBuffer(key) || key.length !== DATA_KEY_BYTES) {
        throw new CustosError('ERR_INVALID_ARGUMENT', 'wrapKey takes a 32-byte key');
      }
      const { version, ciphertext } = await encrypt(key, dataKeyAad(context), 'wrapping a key');
      return `gcpkms:v${version}:${ciphertext.toString('base64url')}`;
    },
    async unwrapDataKey(wrapped, context) {
      const { version, ciphertext } = parseWrapped(wrapped);
      let response: Awaited<ReturnType<KmsClient['decrypt']>>[0];
      try {
        [response] = await client.decrypt({
          name: keyName,
          ciphertext,
          additionalAuthenticatedData: dataKeyAad(context),
        });
      } catch (err) {
        throw gcpFailure(err, `unwrapping a data key of version ${version}`, 'decrypt');
      }
      if (response.plaintext === null || response.plaintext === undefined) {
        throw new DecryptionFailed('decryption failed: the KMS returned no plaintext');
      }
      return requireDataKey(Buffer.from(serviceBytes(response.plaintext, 'a plaintext')));
    },
    describeWrappedKey(wrapped): KmsKeyVersion {
      return { keyId: keyName, keyVersion: parseWrapped(wrapped).version };
    },
    async currentKey() {
      const probe = randomBytes(DATA_KEY_BYTES);
      const { version } = await encrypt(probe, PROBE_AAD, 'finding the primary key version');
      return { keyId: keyName, keyVersion: version };
    },
    async close() {
      await client.close();
    },
  };
}

/** The version number of a CryptoKeyVersion name under `keyName`. */
function versionOf(name: string | null | undefined, keyName: string): number {
  const match = typeof name === 'string' ? VERSION_NAME.exec(name) : null;
  if (match === null || match[1] !== keyName) {
    throw new CustosError(
      'ERR_KMS_PROVIDER',
      'the KMS answered without the name of a version of the key it was asked to use',
    );
  }
  return Number(match[2]);
}

function parseWrapped(wrapped: string): { version: number; ciphertext: Buffer } {
  const match = typeof wrapped === 'string' ? WRAPPED.exec(wrapped) : null;
  if (match === null) {
    throw new CustosError(
      'ERR_MALFORMED_CIPHERTEXT',
      'the wrapped data key is not a gcpkms:v<version>:<base64url> value',
    );
  }
  return { version: Number(match[1]), ciphertext: Buffer.from(match[2] as string, 'base64url') };
}
