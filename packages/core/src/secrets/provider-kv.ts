import { CustosError } from '../errors/index.js';
import { checkRequestPath } from '../lib/request-path.js';
import {
  createClientReporting,
  type ServerAuth,
  type ServerConnectionOptions,
} from '../lib/server-client.js';
import { type KvWatchOptions, watchKvSecret } from './kv-watch.js';
import type { NonCurrentStage, SecretProvider } from './provider.js';

/** How the provider authenticates (a token, or AppRole). */
export type KvAuth = ServerAuth;

/** Options of {@link vaultKv}. */
export interface VaultKvOptions extends ServerConnectionOptions {
  /** KV v2 mount (default `secret`). */
  readonly mount?: string;
  /** The secret whose fields are the variables, e.g. `app/production`. */
  readonly path: string;
  /** Read this version instead of the current one. */
  readonly version?: number;
  /**
   * How long one fetched secret answers for all its fields (default 1 s), so loading a schema
   * of 20 variables costs one request. The SDK's own cache (TTL, stale-if-error) sits above.
   */
  readonly documentTtlMs?: number;
  /**
   * Watch the server's change events (`GET /v1/sys/events/kv`, custos only; docs/secrets.md):
   * a write or rotation of the secret, on any node, drops the cached values within about a
   * second instead of at the TTL. Reconnects with backoff after a failure; meanwhile the TTL
   * applies. The token needs `read` on `sys/events/kv`. Default off.
   */
  readonly watch?: boolean | KvWatchOptions;
}

/**
 * Reads secrets from a KV version 2 secret on the custos server or HashiCorp Vault (the same
 * protocol): each field of the secret at `path` is one variable. A missing secret or field is
 * a miss (the next provider of a chain may answer); an unreachable, sealed or refusing server
 * is an error, never a miss, so the SDK's stale-if-error can serve the last good value.
 * Messages name the address and path, never the token or a value. For a private CA, start Node
 * with `NODE_EXTRA_CA_CERTS=ca.pem`.
 *
 * Requests go through the custos server client (`@custos/core/client`): no redirects, https
 * unless loopback (or `allowInsecureHttp`), `timeoutMs` per request. Every failure, the
 * client's included, is `ERR_SECRET_PROVIDER`; the client's own code (`ERR_SERVER_UNREACHABLE`,
 * `ERR_SERVER_REDIRECT`, `ERR_INSECURE_TRANSPORT`) is the error's `cause`. A `mount` or `path`
 * with a `.`, `..` or empty segment is refused when the provider is created (cause
 * `ERR_INVALID_ARGUMENT`): the URL parser would resolve it to another route.
 *
 * @example
 * ```ts
 * const secrets = createSecrets({
 *   providers: [vaultKv({ path: 'billing/production', auth: { roleId, secretId } })],
 * });
 * const stripeKey = await secrets.getRequiredSecret('STRIPE_SECRET_KEY');
 * ```
 */
export function vaultKv(options: VaultKvOptions): SecretProvider {
  const client = createClientReporting('ERR_SECRET_PROVIDER', options);
  const mount = (options.mount ?? 'secret').replace(/^\/+|\/+$/g, '');
  const path = options.path.replace(/^\/+|\/+$/g, '');
  const ttl = options.documentTtlMs ?? 1000;
  const where = `${mount}/${path} at ${client.address}`;
  const documentPath = `${mount}/data/${path.split('/').map(encodeURIComponent).join('/')}`;
  try {
    // Refused now rather than at every read: the client would refuse it each time anyway.
    checkRequestPath(documentPath);
  } catch (err) {
    throw new CustosError('ERR_SECRET_PROVIDER', (err as Error).message, { cause: err });
  }
  const failure = (message: string) => new CustosError('ERR_SECRET_PROVIDER', message);
  let document: { fields: Map<string, string>; at: number } | undefined;
  let inFlight: Promise<Map<string, string> | undefined> | undefined;

  const fetchDocument = async (
    stage?: NonCurrentStage,
  ): Promise<Map<string, string> | undefined> => {
    const query =
      stage !== undefined
        ? `?stage=${stage}`
        : options.version
          ? `?version=${options.version}`
          : '';
    const response = await client.call('GET', `${documentPath}${query}`);
    if (response.status === 404) return undefined;
    if (response.status === 403 || response.status === 401)
      throw failure(`permission denied reading ${where}`);
    if (response.status === 503)
      throw failure(`the server at ${client.address} is sealed or unavailable`);
    if (response.status !== 200)
      throw failure(`reading ${where} failed with HTTP ${response.status}`);
    // Only a 404 is a miss: a 200 that is not a KV v2 answer (a proxy's page, another API) is an
    // error, so the chain never falls through to a lower provider on it.
    const data = (response.body?.data as { data?: unknown } | undefined)?.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw failure(`${where} did not answer as a KV version 2 secret`);
    }
    // No prototype: a variable named "constructor" or "toString" is simply absent.
    const fields = new Map<string, string>();
    for (const [name, value] of Object.entries(data)) {
      fields.set(name, typeof value === 'string' ? value : JSON.stringify(value));
    }
    return fields;
  };

  const current = async (): Promise<Map<string, string> | undefined> => {
    if (document !== undefined && Date.now() - document.at < ttl) return document.fields;
    inFlight ??= fetchDocument(undefined).finally(() => {
      inFlight = undefined;
    });
    const fields = await inFlight;
    document = fields === undefined ? undefined : { fields, at: Date.now() };
    for (const name of fields?.keys() ?? []) known.add(name);
    return fields;
  };
  /** Every field name seen: the names a change may have changed. */
  const known = new Set<string>();
  const watchOptions = options.watch === true ? {} : options.watch || undefined;

  return {
    name: `kv:${mount}/${path}`,
    async get(name) {
      return (await current())?.get(name);
    },
    async list() {
      return [...((await current())?.keys() ?? [])];
    },
    // Not cached: a staged version is asked for rarely (a grace-window fallback, a check).
    async getStaged(name, stage) {
      return (await fetchDocument(stage))?.get(name);
    },
    ...(watchOptions === undefined
      ? {}
      : {
          watch(listener: (names: readonly string[]) => void) {
            // Its own client: a long-poll outlasts the per-request timeout of reads.
            const waitSeconds = Math.min(Math.max(watchOptions.waitSeconds ?? 25, 1), 60);
            const events = createClientReporting('ERR_SECRET_PROVIDER', {
              ...options,
              timeoutMs: waitSeconds * 1000 + (options.timeoutMs ?? 5000),
            });
            return watchKvSecret(
              events,
              `${mount}/${path}`,
              () => {
                document = undefined;
                listener([...known]);
              },
              { ...watchOptions, waitSeconds },
            );
          },
        }),
  };
}
