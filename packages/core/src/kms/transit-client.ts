import { CustosError } from '../errors/index.js';
import { createClientReporting, type ServerConnectionOptions } from '../lib/server-client.js';

/**
 * Options of {@link createTransitClient}: the server connection (address, auth, timeout) and
 * the transit mount.
 *
 * @example
 * ```ts
 * const options: TransitClientOptions = { address: 'https://custos.internal:8200', mount: 'transit-eu' };
 * ```
 */
export interface TransitClientOptions extends ServerConnectionOptions {
  /** Transit mount (default `transit`). */
  readonly mount?: string;
}

/**
 * Options of a remote encrypt/decrypt: derivation context and associated data (bytes), and the
 * key version to encrypt under.
 *
 * @example
 * ```ts
 * await transit.encrypt('orders', data, { context: Buffer.from('tenant-7') } satisfies RemoteCryptOptions);
 * ```
 */
export interface RemoteCryptOptions {
  readonly context?: Uint8Array;
  readonly associatedData?: Uint8Array;
  readonly keyVersion?: number;
}

/**
 * A transit call the server answered with an error status. Its code stays `ERR_KMS_REMOTE`; the
 * status lets callers that know what a refusal means (a data key that does not unwrap for this
 * tenant) map it, while network failures and 5xx keep failing as `ERR_KMS_REMOTE`.
 */
export class TransitRefused extends CustosError {
  readonly status: number;
  constructor(status: number, message: string) {
    super('ERR_KMS_REMOTE', message);
    this.status = status;
  }
}

const b64 = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString('base64');

/**
 * A small client for the transit engine of the custos server (or HashiCorp Vault): encrypt,
 * decrypt, rewrap and key reads, with token or AppRole auth. Server errors keep their text
 * (`ERR_KMS_REMOTE`), which never holds plaintext. Requests go through the custos server client
 * (`@custos/core/client`: no redirects, https unless loopback or `allowInsecureHttp`,
 * `timeoutMs`); its errors become `ERR_KMS_REMOTE` with the client's error
 * (`ERR_SERVER_UNREACHABLE`, …) as `cause`.
 *
 * @example
 * ```ts
 * const transit = createTransitClient({ auth: { token } });
 * const { ciphertext } = await transit.encrypt('patients', Buffer.from('Jane Doe'));
 * ```
 */
export function createTransitClient(options: TransitClientOptions = {}) {
  const client = createClientReporting('ERR_KMS_REMOTE', options);
  const mount = (options.mount ?? 'transit').replace(/^\/+|\/+$/g, '');
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await client.call(
      method,
      `${mount}/${path}`,
      body === undefined ? {} : { body },
    );
    if (response.status !== 200)
      throw new TransitRefused(
        response.status,
        `transit ${path.split('/')[0]} at ${client.address}: ${client.errorOf(response, body)}`,
      );
    return response.body?.data as Record<string, unknown>;
  };
  return {
    async encrypt(
      name: string,
      plaintext: Uint8Array,
      opts: RemoteCryptOptions = {},
    ): Promise<{ ciphertext: string; keyVersion: number }> {
      const data = await call('POST', `encrypt/${encodeURIComponent(name)}`, {
        plaintext: b64(plaintext),
        context: b64(opts.context),
        associated_data: b64(opts.associatedData),
        key_version: opts.keyVersion,
      });
      return { ciphertext: data.ciphertext as string, keyVersion: data.key_version as number };
    },
    async decrypt(
      name: string,
      ciphertext: string,
      opts: RemoteCryptOptions = {},
    ): Promise<Buffer> {
      const data = await call('POST', `decrypt/${encodeURIComponent(name)}`, {
        ciphertext,
        context: b64(opts.context),
        associated_data: b64(opts.associatedData),
      });
      return Buffer.from(data.plaintext as string, 'base64');
    },
    async rewrap(
      name: string,
      ciphertext: string,
      opts: RemoteCryptOptions = {},
    ): Promise<{ ciphertext: string; keyVersion: number }> {
      const data = await call('POST', `rewrap/${encodeURIComponent(name)}`, {
        ciphertext,
        context: b64(opts.context),
        associated_data: b64(opts.associatedData),
        key_version: opts.keyVersion,
      });
      return { ciphertext: data.ciphertext as string, keyVersion: data.key_version as number };
    },
    async latestVersion(name: string): Promise<number> {
      return (await call('GET', `keys/${encodeURIComponent(name)}`)).latest_version as number;
    },
    /**
     * Sets the key's `auto_rotate_period` (seconds; 0 turns it off) and reads it back: the
     * server then rotates the key by age. Needs `update` on `<mount>/keys/<name>/config` and
     * `read` on `<mount>/keys/<name>`.
     */
    async setAutoRotatePeriod(name: string, seconds: number): Promise<void> {
      const key = encodeURIComponent(name);
      await call('POST', `keys/${key}/config`, { auto_rotate_period: `${seconds}s` });
      const recorded = (await call('GET', `keys/${key}`)).auto_rotate_period;
      if (recorded !== seconds) {
        throw new TransitRefused(
          200,
          `transit keys at ${client.address}: the key did not record auto_rotate_period ${seconds}s`,
        );
      }
    },
  };
}

/**
 * The transit client's interface (what {@link createTransitClient} returns).
 *
 * @example
 * ```ts
 * function archive(transit: TransitClient, record: Buffer) {
 *   return transit.encrypt('archive', record);
 * }
 * ```
 */
export type TransitClient = ReturnType<typeof createTransitClient>;
