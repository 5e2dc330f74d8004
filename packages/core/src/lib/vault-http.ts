import { CustosError, type ErrorCode } from '../errors/index.js';

/** How a client authenticates to the custos server (or HashiCorp Vault). */
export type VaultAuth =
  | { readonly token: string }
  /** AppRole: logs in on first use and again whenever the token is refused. */
  | { readonly roleId: string; readonly secretId: string; readonly mount?: string };

/** Connection options shared by every custos/Vault HTTP client. */
export interface VaultConnectionOptions {
  /** Server address; default `CUSTOS_ADDR`, then `VAULT_ADDR`, then `http://127.0.0.1:8200`. */
  readonly address?: string;
  /** Default: a token from `CUSTOS_TOKEN` or `VAULT_TOKEN`. */
  readonly auth?: VaultAuth;
  /** Request timeout (default 5 s): a stuck server fails the call instead of hanging it. */
  readonly timeoutMs?: number;
  /** The `fetch` to use (tests, proxies); default the global one. */
  readonly fetch?: typeof fetch;
  /**
   * Allow plain `http://` to a host other than loopback (a trusted private network only):
   * without TLS the token travels in the clear. Default false.
   */
  readonly allowInsecureHttp?: boolean;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** A response: status and parsed JSON body (`null` when empty). */
export interface VaultResponse {
  readonly status: number;
  readonly body: Record<string, unknown> | null;
}

/**
 * A minimal authenticated HTTP client for the custos/Vault API: resolves the address and
 * credentials, logs in with AppRole when configured (again once when a token is refused), and
 * turns network failures into `errorCode` errors that name the address, never the token.
 *
 * @example
 * ```ts
 * const client = createVaultClient({ auth: { token } }, 'ERR_SECRET_PROVIDER');
 * const { status, body } = await client.call('GET', 'secret/data/app');
 * ```
 */
export function createVaultClient(options: VaultConnectionOptions, errorCode: ErrorCode) {
  const address = (
    options.address ??
    process.env.CUSTOS_ADDR ??
    process.env.VAULT_ADDR ??
    'http://127.0.0.1:8200'
  ).replace(/\/+$/, '');
  const envToken = process.env.CUSTOS_TOKEN ?? process.env.VAULT_TOKEN;
  const auth: VaultAuth | undefined = options.auth ?? (envToken ? { token: envToken } : undefined);
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5000;
  const fail = (message: string) => new CustosError(errorCode, message);
  if (auth === undefined) throw fail(`no token for ${address}: pass auth, or set CUSTOS_TOKEN`);
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw fail(`${address} is not a valid server address`);
  }
  if (
    url.protocol !== 'https:' &&
    !(url.protocol === 'http:' && (LOOPBACK.has(url.hostname) || options.allowInsecureHttp))
  ) {
    throw fail(
      `${address}: use https (plain http is accepted only to loopback, or with allowInsecureHttp)`,
    );
  }
  let token = 'token' in auth ? auth.token : undefined;

  const send = async (
    method: string,
    path: string,
    body: unknown,
    withToken: string | undefined,
  ): Promise<VaultResponse> => {
    let response: Response;
    try {
      response = await doFetch(`${address}/v1/${path}`, {
        method,
        headers: {
          ...(withToken ? { 'x-vault-token': withToken } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
        // A redirect would carry the token (and an AppRole secret ID) to another server.
        redirect: 'manual',
      });
    } catch (err) {
      const reason = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw fail(`cannot reach ${address} (${reason})`);
    }
    if (response.status >= 300 && response.status < 400) {
      throw fail(
        `${address} answered with a redirect (HTTP ${response.status}); custos does not follow redirects`,
      );
    }
    const text = await response.text();
    let parsed: Record<string, unknown> | null = null;
    try {
      parsed = text === '' ? null : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      parsed = null;
    }
    return { status: response.status, body: parsed };
  };

  const login = async (): Promise<string> => {
    if ('token' in auth) return auth.token;
    const { status, body } = await send(
      'POST',
      `auth/${auth.mount ?? 'approle'}/login`,
      { role_id: auth.roleId, secret_id: auth.secretId },
      undefined,
    );
    const issued = (body?.auth as { client_token?: unknown } | undefined)?.client_token;
    if (status !== 200 || typeof issued !== 'string')
      throw fail(`AppRole login at ${address} failed with HTTP ${status}`);
    return issued;
  };

  return {
    address,
    /** Calls the API with the current token; logs in again once if an AppRole token is refused. */
    async call(method: string, path: string, body?: unknown): Promise<VaultResponse> {
      token ??= await login();
      let response = await send(method, path, body, token);
      if ((response.status === 403 || response.status === 401) && !('token' in auth)) {
        token = await login();
        response = await send(method, path, body, token);
      }
      return response;
    },
    /** The server's first error message, for errors (server messages never hold secret values). */
    errorOf(response: VaultResponse): string {
      const errors = response.body?.errors;
      return Array.isArray(errors) && typeof errors[0] === 'string'
        ? errors[0]
        : `HTTP ${response.status}`;
    },
  };
}
