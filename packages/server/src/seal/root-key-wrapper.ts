/**
 * An auto-unseal seal: a key held outside custos (another custos or Vault transit key, an HSM)
 * that wraps the root key. The server stores only the wrapped root key and unwraps it at start.
 * Implementations: `transit-seal.ts` and `pkcs11-seal.ts`; a new seal type is one more.
 */

/** The seal types the server knows (`shamir` is the default: no wrapper). */
export type SealType = 'shamir' | 'transit' | 'pkcs11';

/** The root key as the seal wrapped it: stored in the clear (it is wrapped) at `core/wrapped-root-key`. */
export interface WrappedRootKey {
  readonly type: Exclude<SealType, 'shamir'>;
  /** The wrapper's ciphertext (transit: `vault:v<n>:…`; pkcs11: `gcm:` or `kwp:` + base64). */
  readonly ciphertext: string;
  /** Version of the wrapping key that wrapped it. */
  readonly keyVersion: number;
  /** Which key wrapped it (transit: `<mount>/<key_name>`; pkcs11: the key label). */
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
  wrap(rootKey: Buffer): Promise<WrappedRootKey>;
  unwrap(wrapped: WrappedRootKey): Promise<Buffer>;
}
