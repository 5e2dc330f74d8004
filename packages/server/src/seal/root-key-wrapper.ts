/**
 * An auto-unseal seal: a key held outside custos (another custos or Vault transit key, an HSM)
 * that wraps the root key. The server stores only the wrapped root key and unwraps it at start.
 * Implementations: `transit-seal.ts`, `pkcs11-seal.ts` and the cloud seals (`cloud-seal.ts`:
 * `awskms`, `azurekeyvault`, `gcpckms`); a new seal type is one more.
 */

/** The seal types the server knows (`shamir` is the default: no wrapper). */
export type SealType = 'shamir' | 'transit' | 'pkcs11' | CloudSealType;

/** The cloud KMS seals, with Vault's stanza names. */
export type CloudSealType = 'awskms' | 'azurekeyvault' | 'gcpckms';

/**
 * What a wrap is bound to besides the purpose: the cluster (a random id kept in the clear in
 * `core/seal-config`), so a root key wrapped for another cluster by the same cloud key does not
 * unwrap here. The cloud seals send it as the encryption context / associated data; the transit
 * and PKCS#11 seals bind a fixed context only (their stored forms predate it).
 */
export interface SealBinding {
  readonly clusterId: string | undefined;
}

/** The root key as the seal wrapped it: stored in the clear (it is wrapped) at `core/wrapped-root-key`. */
export interface WrappedRootKey {
  readonly type: Exclude<SealType, 'shamir'>;
  /**
   * The wrapper's ciphertext (transit: `vault:v<n>:…`; pkcs11: `gcm:` or `kwp:` + base64; the
   * cloud seals: the provider's wrapped form, `aws-kms:v1:…`, `azkv:…`, `gcpkms:v<n>:…`).
   */
  readonly ciphertext: string;
  /** Version of the wrapping key that wrapped it. */
  readonly keyVersion: number;
  /**
   * Which key wrapped it (transit: `<mount>/<key_name>`; pkcs11: the key label; awskms: the key
   * ARN; azurekeyvault: `<vault URL>/keys/<name>`; gcpckms: the CryptoKey's resource name).
   */
  readonly keyId: string;
}

/**
 * Wraps and unwraps the root key with a key custos never holds. Errors are `ERR_SEAL_UNAVAILABLE`
 * with a message that names the seal (address, key) and never a token or PIN.
 *
 * @example
 * ```ts
 * const wrapped = await wrapper.wrap(rootKey);
 * const again = await wrapper.unwrap(wrapped); // equal to rootKey
 * ```
 */
export interface RootKeyWrapper {
  readonly type: Exclude<SealType, 'shamir'>;
  /** Where the key lives, for messages and logs (no credential). */
  readonly description: string;
  wrap(rootKey: Buffer, binding?: SealBinding): Promise<WrappedRootKey>;
  unwrap(wrapped: WrappedRootKey, binding?: SealBinding): Promise<Buffer>;
  /** Releases the wrapper's connections (the cloud seals' clients), if it holds any. */
  close?(): Promise<void>;
}
