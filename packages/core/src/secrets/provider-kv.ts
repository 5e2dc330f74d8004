import { CustosError } from '../errors/index.js';
import type { SecretProvider } from './provider.js';

/** How the provider authenticates. */
export type KvAuth =
  | { readonly token: string }
  /** AppRole: logs in on first use and again whenever the token is refused. */
  | { readonly roleId: string; readonly secretId: string; readonly mount?: string };

/** Options of {@link vaultKv}. */
export interface VaultKvOptions {
  /** Server address; default `CUSTOS_ADDR`, then `VAULT_ADDR`, then `http://127.0.0.1:8200`. */
  readonly address?: string;
  /** Default: a token from `CUSTOS_TOKEN` or `VAULT_TOKEN`. */
  readonly auth?: KvAuth;
  /** KV v2 mount (default `secret`). */
  readonly mount?: string;
  /** The secret whose fields are the variables, e.g. `app/production`. */
  readonly path: string;
  /** Read this version instead of the latest. */
  readonly version?: number;
  /**
   * How long one fetched secret answers for all its fields (default 1 s), so loading a schema
   * of 20 variables costs one request. The SDK's own cache (TTL, stale-if-error) sits above.
   */
  readonly documentTtlMs?: number;
  /** Request timeout (default 5 s): a stuck server fails the lookup instead of hanging it. */
  readonly timeoutMs?: number;
  /** The `fetch` to use (tests, proxies); default the global one. */
  readonly fetch?: typeof fetch;
}

const failure = (message: string) => new CustosError('ERR_SECRET_PROVIDER', message);

/**
 * Reads secrets from a KV version 2 secret on the custos server or HashiCorp Vault (the same
 * protocol): each field of the secret at `path` is one variable. A missing secret or field is
 * a miss (the next provider of a chain may answer); an unreachable, sealed or refusing server
 * is an error, never a miss, so the SDK's stale-if-error can serve the last good value.
 * Messages name the address and path, never the token or a value. For a private CA, start Node
 * with `NODE_EXTRA_CA_CERTS=ca.pem`.
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
  const address = (
    options.address ??
    process.env.CUSTOS_ADDR ??
    process.env.VAULT_ADDR ??
    'http://127.0.0.1:8200'
  ).replace(/\/+$/, '');
  const mount = (options.mount ?? 'secret').replace(/^\/+|\/+$/g, '');
  const path = options.path.replace(/^\/+|\/+$/g, '');
  const doFetch = options.fetch ?? fetch;
  const ttl = options.documentTtlMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 5000;
  const where = `${mount}/${path} at ${address}`;
  const auth: KvAuth | undefined =
    options.auth ??
    ((process.env.CUSTOS_TOKEN ?? process.env.VAULT_TOKEN)
      ? { token: (process.env.CUSTOS_TOKEN ?? process.env.VAULT_TOKEN) as string }
      : undefined);
  if (auth === undefined) throw failure(`no token for ${where}: pass auth, or set CUSTOS_TOKEN`);

  let token = 'token' in auth ? auth.token : undefined;
  let document: { fields: Record<string, string>; at: number } | undefined;
  let inFlight: Promise<Record<string, string> | undefined> | undefined;

  const request = async (method: string, url: string, body?: unknown, withToken?: string) => {
    try {
      return await doFetch(url, {
        method,
        headers: {
          ...(withToken ? { 'x-vault-token': withToken } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const reason = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw failure(`cannot reach ${address} for ${mount}/${path} (${reason})`);
    }
  };

  const login = async (): Promise<string> => {
    if ('token' in auth) return auth.token;
    const response = await request('POST', `${address}/v1/auth/${auth.mount ?? 'approle'}/login`, {
      role_id: auth.roleId,
      secret_id: auth.secretId,
    });
    if (!response.ok)
      throw failure(`AppRole login for ${where} failed with HTTP ${response.status}`);
    const body = (await response.json()) as { auth?: { client_token?: string } };
    if (typeof body.auth?.client_token !== 'string')
      throw failure(`AppRole login for ${where} returned no token`);
    return body.auth.client_token;
  };

  const fetchDocument = async (): Promise<Record<string, string> | undefined> => {
    const url = `${address}/v1/${mount}/data/${path.split('/').map(encodeURIComponent).join('/')}${options.version ? `?version=${options.version}` : ''}`;
    token ??= await login();
    let response = await request('GET', url, undefined, token);
    if ((response.status === 403 || response.status === 401) && !('token' in auth)) {
      token = await login(); // the AppRole token expired or was revoked: log in again once
      response = await request('GET', url, undefined, token);
    }
    if (response.status === 404) return undefined;
    if (response.status === 403 || response.status === 401)
      throw failure(`permission denied reading ${where}`);
    if (response.status === 503) throw failure(`the server at ${address} is sealed or unavailable`);
    if (!response.ok) throw failure(`reading ${where} failed with HTTP ${response.status}`);
    const body = (await response.json()) as { data?: { data?: Record<string, unknown> | null } };
    const data = body.data?.data;
    if (data === undefined || data === null) return undefined;
    const fields: Record<string, string> = {};
    for (const [name, value] of Object.entries(data)) {
      fields[name] = typeof value === 'string' ? value : JSON.stringify(value);
    }
    return fields;
  };

  const current = async (): Promise<Record<string, string> | undefined> => {
    if (document !== undefined && Date.now() - document.at < ttl) return document.fields;
    inFlight ??= fetchDocument().finally(() => {
      inFlight = undefined;
    });
    const fields = await inFlight;
    document = fields === undefined ? undefined : { fields, at: Date.now() };
    return fields;
  };

  return {
    name: `kv:${mount}/${path}`,
    async get(name) {
      return (await current())?.[name];
    },
    async list() {
      return Object.keys((await current()) ?? {});
    },
  };
}
