import { isCustosError } from '@custos/core/errors';
import { ServerError } from '../errors.js';
import type {
  CloudSealType,
  RootKeyWrapper,
  SealBinding,
  WrappedRootKey,
} from './root-key-wrapper.js';

/**
 * The part of a `@custos/core/kms` cloud provider (`createAwsKms`, `openAzureKeyVaultKms`,
 * `openGcpKms`) a cloud seal uses: wrap a key it holds, unwrap it, read which key version
 * wrapped it.
 */
export interface CloudKeyWrapper {
  wrapKey(key: Buffer, context: { sealClusterId: string }): Promise<string>;
  unwrapDataKey(wrapped: string, context: { sealClusterId: string }): Promise<Uint8Array>;
  describeWrappedKey(wrapped: string): { keyId: string; keyVersion: number };
  close(): Promise<void>;
}

/** What one cloud seal type gives {@link createCloudSeal}. */
export interface CloudSealSpec {
  readonly type: CloudSealType;
  /** The seal and its key, for messages and logs: no credential. */
  readonly description: string;
  /** Opens the provider (loads the SDK); called on first use, again after a failed open. */
  open(): Promise<CloudKeyWrapper>;
  /**
   * Whether a stored key id (what `describeWrappedKey` named at the wrap) may be the configured
   * key: false refuses before any call ("wrapped by another key").
   */
  accepts(storedKeyId: string): boolean;
  /** Credential values that must never reach a message (scrubbed if a service echoes one). */
  readonly secrets: readonly string[];
  /** Longest wait for one wrap or unwrap (default 30 000 ms): then it fails, and is retried. */
  readonly timeoutMs?: number;
}

/**
 * A seal on a cloud KMS key (AWS KMS, Azure Key Vault, Google Cloud KMS): the root key is
 * wrapped by the provider's `wrapKey` bound to `{ purpose: 'custos-seal', cluster }` (AWS's
 * encryption context, Key Vault's sealing layer, Cloud KMS's AAD), and stored in the provider's
 * own wrapped form, which names the key version that wrapped it: a rotated cloud key keeps
 * unwrapping it (the providers keep old versions), new wraps use the current version.
 *
 * Every failure is `ERR_SEAL_UNAVAILABLE` naming the seal type and key and the provider's typed
 * code (`ERR_KEY_DISABLED`, `ERR_PERMISSION_DENIED`, `ERR_DECRYPTION_FAILED`…), never a
 * credential: the server stays sealed and the auto-unseal loop retries.
 *
 * @example
 * ```ts
 * const seal = createCloudSeal({ type: 'gcpckms', description, open: () => openGcpKms(options), accepts, secrets: [] });
 * const wrapped = await seal.wrap(rootKey, { clusterId });
 * ```
 */
export function createCloudSeal(spec: CloudSealSpec): RootKeyWrapper {
  const { type, description } = spec;
  let opening: Promise<CloudKeyWrapper> | undefined;
  const provider = () => {
    opening ??= spec.open().catch((err: unknown) => {
      opening = undefined;
      throw err;
    });
    return opening;
  };
  const scrub = (text: string) =>
    spec.secrets.reduce(
      (out, secret) => (secret.length >= 4 ? out.split(secret).join('[redacted]') : out),
      text,
    );
  const unavailable = (what: string, err: unknown) => {
    const reason = isCustosError(err)
      ? `${err.code}: ${err.message}`
      : err instanceof Error
        ? err.name
        : 'unknown error';
    return new ServerError(
      'ERR_SEAL_UNAVAILABLE',
      scrub(`${description}: ${what} failed: ${reason}`),
    );
  };
  const timeoutMs = spec.timeoutMs ?? 30_000;
  /** `work`, or a failure once `timeoutMs` passed (the SDK call is left to end on its own). */
  const bounded = <T>(work: Promise<T>, onLate: (value: T) => void): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    let late = false;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        late = true;
        reject(
          new ServerError('ERR_SEAL_UNAVAILABLE', `the KMS did not answer within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      timer.unref();
    });
    work.then(
      (value) => {
        if (late) onLate(value);
      },
      () => {},
    );
    return Promise.race([work, expired]).finally(() => clearTimeout(timer));
  };
  const contextOf = (binding: SealBinding | undefined) => {
    const clusterId = binding?.clusterId;
    if (clusterId === undefined)
      throw new ServerError(
        'ERR_STORAGE_INTEGRITY',
        `${description}: core/seal-config names no cluster id to bind the root key to`,
      );
    return { sealClusterId: clusterId };
  };
  return {
    type,
    description,
    async wrap(rootKey: Buffer, binding?: SealBinding): Promise<WrappedRootKey> {
      const context = contextOf(binding);
      try {
        const kms = await provider();
        const ciphertext = await bounded(kms.wrapKey(rootKey, context), () => {});
        const { keyId, keyVersion } = kms.describeWrappedKey(ciphertext);
        return { type, ciphertext, keyVersion, keyId };
      } catch (err) {
        throw unavailable('wrapping the root key', err);
      }
    },
    async unwrap(wrapped: WrappedRootKey, binding?: SealBinding): Promise<Buffer> {
      const context = contextOf(binding);
      if (wrapped.type !== type || !spec.accepts(wrapped.keyId))
        throw new ServerError(
          'ERR_SEAL_UNAVAILABLE',
          `${description}: the stored root key was wrapped by ${wrapped.type} key ${JSON.stringify(wrapped.keyId)}`,
        );
      try {
        const kms = await provider();
        const named = kms.describeWrappedKey(wrapped.ciphertext);
        if (named.keyId !== wrapped.keyId)
          throw new ServerError(
            'ERR_STORAGE_INTEGRITY',
            'the wrapped root key names another key than its record',
          );
        // An answer after the bound is zeroed: nobody holds it.
        const plain = await bounded(kms.unwrapDataKey(wrapped.ciphertext, context), (late) =>
          late.fill(0),
        );
        const rootKey = Buffer.from(plain);
        plain.fill(0);
        return rootKey;
      } catch (err) {
        throw unavailable('unwrapping the root key', err);
      }
    },
    async close() {
      const open = opening;
      opening = undefined;
      const kms = await open?.catch(() => undefined);
      await kms?.close();
    },
  };
}
