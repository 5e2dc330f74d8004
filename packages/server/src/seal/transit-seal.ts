import { createTransitClient } from '@custos/core/kms';
import { ServerError } from '../errors.js';
import type { RootKeyWrapper, WrappedRootKey } from './root-key-wrapper.js';

/** The `seal` stanza of type `transit`, with Vault's names. */
export interface TransitSealConfig {
  readonly type: 'transit';
  /** The custos or Vault server holding the key. */
  readonly address: string;
  /** Default: `CUSTOS_SEAL_TOKEN`, then `VAULT_TOKEN` from the environment. */
  readonly token?: string;
  /** Transit mount, default `transit`. */
  readonly mount_path?: string;
  readonly key_name: string;
  /** Time for one transit call (default 5000 ms). */
  readonly timeout_ms?: number;
  /** Plain http to a host other than loopback (a trusted network only). */
  readonly allow_insecure_http?: boolean;
  /** Vault's name: migrate from this seal back to Shamir unseal keys (docs/operations.md). */
  readonly disabled?: boolean;
}

/** Bound to every wrap: a root key wrapped for something else does not unwrap as one. */
const CONTEXT = Buffer.from('custos/root-key/v1');

/**
 * The transit seal: the root key is encrypted by a transit key of another custos or Vault
 * server (`transit/encrypt/<key_name>`) and decrypted at start.
 *
 * @example
 * ```ts
 * const wrapper = createTransitSeal({ type: 'transit', address: 'https://kms:8200', key_name: 'custos-seal' });
 * ```
 */
export function createTransitSeal(
  config: TransitSealConfig,
  env: NodeJS.ProcessEnv = process.env,
): RootKeyWrapper {
  const token = config.token ?? env.CUSTOS_SEAL_TOKEN ?? env.VAULT_TOKEN;
  if (token === undefined || token === '')
    throw new ServerError(
      'ERR_INVALID_CONFIG',
      'config: seal.token is missing (set it in the seal stanza, or CUSTOS_SEAL_TOKEN or VAULT_TOKEN in the environment)',
    );
  const mount = (config.mount_path ?? 'transit').replace(/^\/+|\/+$/g, '');
  const client = createTransitClient({
    address: config.address,
    auth: { token },
    mount,
    timeoutMs: config.timeout_ms ?? 5000,
    ...(config.allow_insecure_http === undefined
      ? {}
      : { allowInsecureHttp: config.allow_insecure_http }),
    env: {},
  });
  const keyId = `${mount}/${config.key_name}`;
  const description = `transit seal ${config.address} key ${keyId}`;
  const unavailable = (what: string, err: unknown) => {
    // The transit client's messages name the address and the server's answer, never the token;
    // scrubbed anyway in case a proxy echoes it.
    const reason = (err instanceof Error ? err.message : String(err)).split(token).join('[token]');
    return new ServerError('ERR_SEAL_UNAVAILABLE', `${description}: ${what} failed: ${reason}`);
  };
  return {
    type: 'transit',
    description,
    async wrap(rootKey: Buffer): Promise<WrappedRootKey> {
      try {
        const { ciphertext, keyVersion } = await client.encrypt(config.key_name, rootKey, {
          associatedData: CONTEXT,
        });
        return { type: 'transit', ciphertext, keyVersion, keyId };
      } catch (err) {
        throw unavailable('wrapping the root key', err);
      }
    },
    async unwrap(wrapped: WrappedRootKey): Promise<Buffer> {
      if (wrapped.type !== 'transit' || wrapped.keyId !== keyId)
        throw new ServerError(
          'ERR_SEAL_UNAVAILABLE',
          `${description}: the stored root key was wrapped by ${wrapped.type} key ${wrapped.keyId}`,
        );
      try {
        return await client.decrypt(config.key_name, wrapped.ciphertext, {
          associatedData: CONTEXT,
        });
      } catch (err) {
        throw unavailable('unwrapping the root key', err);
      }
    },
  };
}
