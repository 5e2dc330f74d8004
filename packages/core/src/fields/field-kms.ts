import { randomBytes } from 'node:crypto';
import { type Keyring, parseEnvelope } from '../crypto/index.js';
import { CustosError, KeyNotFound } from '../errors/index.js';
import { type DataKeyContext, dataKeyBinding } from './data-key-binding.js';

export { type DataKeyContext, type DataKeyPurpose, dataKeyBinding } from './data-key-binding.js';

/** A fresh data key: use `plaintext`, store `wrapped`. */
export interface GeneratedDataKey {
  /** 32 bytes of key material. The field cipher zeroes this buffer once it has imported it. */
  readonly plaintext: Uint8Array;
  /** The key encrypted under the KMS key: printable ASCII without spaces (stored with data). */
  readonly wrapped: string;
}

/** Which KMS key (and version) wrapped a data key. */
export interface KmsKeyVersion {
  readonly keyId: string;
  readonly keyVersion: number;
}

/**
 * What a field cipher needs from a key management service for envelope encryption: generate a
 * data key (returned both in the clear and wrapped), unwrap one, and say which key version
 * wrapped it. `createKeyringKms` implements it in process; the transit engine implements it
 * over HTTP.
 *
 * @example
 * ```ts
 * const kms: FieldKms = createKeyringKms(keyring);
 * const { plaintext, wrapped } = await kms.generateDataKey({ tenantId: 'acme' });
 * ```
 */
export interface FieldKms {
  generateDataKey(context: DataKeyContext): Promise<GeneratedDataKey>;
  /** Returns the 32-byte data key; fails (`ERR_DECRYPTION_FAILED`) for another context. */
  unwrapDataKey(wrapped: string, context: DataKeyContext): Promise<Uint8Array>;
  /** Reads the wrapping key and version from a wrapped key, without calling the KMS. */
  describeWrappedKey(wrapped: string): KmsKeyVersion;
  /** The key version that wraps new data keys now. */
  currentKey(): Promise<KmsKeyVersion>;
}

/** Options of {@link createKeyringKms}. */
export interface KeyringKmsOptions {
  /** The key-encryption key; default `default`. */
  readonly keyName?: string;
}

/**
 * An in-process {@link FieldKms} over a keyring: data keys are random 32-byte keys wrapped
 * (AES-256-GCM envelope) under the keyring key, with the tenant bound as associated data.
 * Rotating that key makes new data keys wrap under the new version; `custos reencrypt` then
 * moves old values over.
 *
 * @example
 * ```ts
 * const fc = createFieldCipher({ kms: createKeyringKms(keyring, { keyName: 'kek' }) });
 * ```
 */
export function createKeyringKms(keyring: Keyring, options: KeyringKmsOptions = {}): FieldKms {
  const keyName = options.keyName ?? 'default';
  if (!keyring.has(keyName)) throw new KeyNotFound(`the keyring has no key "${keyName}"`);
  if (keyring.info(keyName).algorithm === 'aes-256-gcm-siv') {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `key "${keyName}" must be randomised to wrap keys`,
    );
  }
  const aadFor = (context: DataKeyContext) => dataKeyBinding(context);
  return {
    async generateDataKey(context) {
      const plaintext = randomBytes(32);
      const wrapped = keyring.encryptToString(keyName, plaintext, { aad: aadFor(context) });
      return { plaintext, wrapped };
    },
    async unwrapDataKey(wrapped, context) {
      const key = keyring.decrypt(wrapped, { aad: aadFor(context) });
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
      const { keyId, keyVersion } = parseEnvelope(wrapped);
      return { keyId, keyVersion };
    },
    async currentKey() {
      const info = keyring.info(keyName);
      return { keyId: info.id, keyVersion: info.primaryVersion };
    },
  };
}
