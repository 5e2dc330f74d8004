import { CustosError, type ErrorCode, isCustosError } from '../errors/index.js';
import { createScrubber, type Scrubber } from '../redaction/scrubber.js';
import { createAppRoleSession } from './approle-session.js';
import { checkRequestPath } from './request-path.js';
import { checkServerAddress, serverAddressFrom } from './server-address.js';

/**
 * How a client authenticates: a token, or AppRole (logs in on first use, and again only when the
 * server no longer accepts its token; see {@link createServerClient}).
 */
export type ServerAuth =
  | { readonly token: string }
  | { readonly roleId: string; readonly secretId: string; readonly mount?: string };

/** Connection options shared by the client and everything built on it (KV provider, transit). */
export interface ServerConnectionOptions {
  /** Server address; default `CUSTOS_ADDR`, then `VAULT_ADDR`, then `http://127.0.0.1:8200`. */
  readonly address?: string;
  /** Default: a token from `CUSTOS_TOKEN`, else `VAULT_TOKEN`; none when both are unset. */
  readonly auth?: ServerAuth;
  /**
   * Time for one request, answer included (default 5000 ms): a stuck server fails the call with
   * `ERR_SERVER_UNREACHABLE` instead of hanging it.
   */
  readonly timeoutMs?: number;
  /**
   * Allow plain `http://` to a host other than loopback — a network you trust only: the token
   * and every value travel in the clear. Default: `CUSTOS_ALLOW_INSECURE_HTTP=1` in the
   * environment, else false.
   */
  readonly allowInsecureHttp?: boolean;
  /** The `fetch` to use (a proxy, instrumentation); default the global one. */
  readonly fetch?: typeof fetch;
  /** Where `CUSTOS_ADDR`, `CUSTOS_TOKEN`, … are read; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/** A response: HTTP status and parsed JSON body (`null` when empty or not JSON). */
export interface ApiResponse {
  readonly status: number;
  readonly body: Record<string, unknown> | null;
}

/** Options of one request. */
export interface ApiRequestOptions {
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Extra headers (`content-type: application/merge-patch+json` for PATCH). */
  readonly headers?: Readonly<Record<string, string>>;
  /** For {@link ServerClient.request}: error statuses returned instead of thrown (`[404]`). */
  readonly allowStatus?: readonly number[];
  /**
   * Ends the request early (a long-poll that is no longer wanted): it fails with
   * `ERR_SERVER_UNREACHABLE`. The client's own timeout applies as well.
   */
  readonly signal?: AbortSignal;
}

/** A client of the custos server (or HashiCorp Vault, OpenBao): see {@link createServerClient}. */
export interface ServerClient {
  /** The checked address requests go to (`https://vault.example.com:8200`), without `/v1`. */
  readonly address: string;
  /** Whether requests carry a token (given, from the environment, or from an AppRole login). */
  readonly authenticated: boolean;
  /**
   * Sends a request to `/v1/<path>` and returns whatever status the server answered — except a
   * redirect, which is an error. With AppRole, logs in again (at most once per call) when the
   * server no longer accepts the token.
   */
  call(method: string, path: string, options?: ApiRequestOptions): Promise<ApiResponse>;
  /**
   * As {@link ServerClient.call}, but an error status (400 and above, unless in `allowStatus`)
   * throws: `ERR_PERMISSION_DENIED` (401, 403), `ERR_NOT_FOUND` (404), `ERR_SEALED` (503),
   * `ERR_INVALID_REQUEST` (any other), with the server's error text.
   */
  request(method: string, path: string, options?: ApiRequestOptions): Promise<ApiResponse>;
  /**
   * The server's first error message of a response, with this client's credentials and the
   * values of `requestBody` (the body that was sent) removed.
   */
  errorOf(response: ApiResponse, requestBody?: unknown): string;
}

const DEFAULT_TIMEOUT_MS = 5000;
/** `setTimeout`'s limit; a longer timeout would fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** What an HTTP header value may hold: a token outside it would be mangled or refused by fetch. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;

/**
 * Creates a client of the custos server's HTTP API (the HashiCorp Vault API subset), the one
 * every part of custos uses: the CLI's server commands, the `vaultKv` secrets provider and the
 * transit client. It is built so credentials go only where they were meant to:
 *
 * - **No redirects.** A 3xx answer is an error (`ERR_SERVER_REDIRECT`) naming the origin it
 *   pointed to; nothing is sent there. Following one would carry the token — and a request
 *   body such as an unseal key or an AppRole secret id — to wherever the answer says. Point the
 *   address at the server that answers (for a cluster: the active node or its load balancer).
 * - **https, or loopback.** Plain `http://` is refused before any connection
 *   (`ERR_INSECURE_TRANSPORT`) unless the host is loopback or `allowInsecureHttp` is set.
 * - **Bounded.** Each request, answer included, has `timeoutMs` (5 s by default).
 * - **Typed failures.** A server that cannot be reached (refused, unknown name, TLS failure) or
 *   does not answer in time is `ERR_SERVER_UNREACHABLE`.
 * - **The route named, no other.** A path with a `.` or `..` segment (`%2e%2e` too), an empty
 *   segment, a backslash, `#`, space or control character is refused (`ERR_INVALID_ARGUMENT`)
 *   before any URL is built or login made: `fetch`'s URL parser would resolve or drop them, so
 *   `secret/data/../../sys/policies/acl/x` would reach the policy route, past the server's own
 *   refusal of `..`. Percent-encode names taken from users (`encodeURIComponent` per segment).
 * - **AppRole logins only when needed.** The first call logs in (concurrent calls share one
 *   login). A 401 or 403 later is either a policy refusal or a token the server no longer
 *   accepts (expired, revoked, out of uses): the client asks `auth/token/lookup-self` with the
 *   same token, and logs in again — once for the call, shared with concurrent calls — only when
 *   that is refused too. So a denied request costs no secret-ID use and mints no token; it costs
 *   one `lookup-self` (one use of a token with `token_num_uses`). A replaced token is never
 *   revoked: the server has just refused it. The role's tokens need `lookup-self` (the `default`
 *   policy grants it); without it, each denied request logs in again.
 * - **No secrets in errors.** Messages name the address, method and path; the server's error
 *   text is scrubbed of the token, the AppRole secret id and the request body's values.
 *
 * Addresses with a user name, password, query or fragment are refused (`ERR_INVALID_ARGUMENT`).
 *
 * @example
 * ```ts
 * import { createServerClient } from '@custos/core/client';
 *
 * const client = createServerClient({ address: 'https://vault.example.com:8200', auth: { token } });
 * const { body } = await client.request('GET', 'secret/data/app/db');
 * const { status } = await client.call('GET', 'secret/data/maybe', {}); // any status, no throw
 * ```
 */
export function createServerClient(options: ServerConnectionOptions = {}): ServerClient {
  const env = options.env ?? process.env;
  const allowInsecureHttp = options.allowInsecureHttp ?? env.CUSTOS_ALLOW_INSECURE_HTTP === '1';
  const address = checkServerAddress(serverAddressFrom(options.address, env), allowInsecureHttp);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `timeoutMs must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}`,
    );
  }
  const auth = options.auth ?? tokenFromEnv(env);
  const scrubber = createScrubber();
  if (auth !== undefined) {
    const credential = 'token' in auth ? auth.token : auth.secretId;
    if (!HEADER_SAFE.test(credential)) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `the ${'token' in auth ? 'token' : 'AppRole secret id'} for ${address} is empty or holds spaces or control characters`,
      );
    }
    scrubber.add(credential);
  }
  const doFetch = options.fetch ?? fetch;
  const token = auth !== undefined && 'token' in auth ? auth.token : undefined;

  const send = (method: string, path: string, request: ApiRequestOptions, withToken?: string) =>
    sendOnce(doFetch, { address, timeoutMs, scrubber }, method, path, request, withToken);

  const login = async (approle: Extract<ServerAuth, { roleId: string }>): Promise<string> => {
    const response = await send('POST', `auth/${approle.mount ?? 'approle'}/login`, {
      body: { role_id: approle.roleId, secret_id: approle.secretId },
    });
    const issued = (response.body?.auth as { client_token?: unknown } | undefined)?.client_token;
    if (response.status !== 200 || typeof issued !== 'string' || !HEADER_SAFE.test(issued)) {
      throw new CustosError(
        response.status === 403 || response.status === 401
          ? 'ERR_PERMISSION_DENIED'
          : 'ERR_INVALID_REQUEST',
        `AppRole login at ${address} failed with HTTP ${response.status}`,
      );
    }
    scrubber.add(issued);
    return issued;
  };

  const session =
    auth !== undefined && !('token' in auth) ? createAppRoleSession(() => login(auth)) : undefined;

  /**
   * Whether the server refuses `used` itself (expired, revoked, out of uses), as opposed to
   * refusing what it was used for: `lookup-self` is allowed to every valid token (Vault's and
   * custos's `default` policy).
   */
  const tokenRefused = async (used: string): Promise<boolean> =>
    isRefusal((await send('GET', 'auth/token/lookup-self', {}, used)).status);

  const call = async (method: string, rawPath: string, request: ApiRequestOptions = {}) => {
    // Before any URL is built or any login made: a `..` the URL parser resolves would reach
    // another route than the one named.
    const path = checkRequestPath(rawPath, (text) => scrubber.redact(text));
    if (session === undefined) return send(method, path, request, token);
    const used = await session.current();
    const response = await send(method, path, request, used.token);
    // A refusal of a token just issued, or of a request its policies do not allow, is the
    // answer: logging in again would spend a secret-ID use and mint a token for nothing.
    if (!isRefusal(response.status) || used.fresh || !(await tokenRefused(used.token))) {
      return response;
    }
    // The token is no longer valid: log in again, once for this call. The old token needs no
    // revoking: the server has just refused it.
    return send(method, path, request, await session.replace(used.token));
  };

  const errorOf = (response: ApiResponse, requestBody?: unknown): string => {
    const errors = response.body?.errors;
    return Array.isArray(errors) && typeof errors[0] === 'string'
      ? scrubberFor(scrubber, requestBody).redact(errors[0])
      : `HTTP ${response.status}`;
  };

  return {
    address,
    authenticated: auth !== undefined,
    call,
    async request(method, path, request = {}) {
      const response = await call(method, path, request);
      if (response.status < 400 || request.allowStatus?.includes(response.status)) return response;
      const bodyScrubber = scrubberFor(scrubber, request.body);
      const errors = Array.isArray(response.body?.errors)
        ? (response.body.errors as unknown[]).filter((e): e is string => typeof e === 'string')
        : [];
      const detail = errors.length > 0 ? errors.join('; ') : 'no details';
      throw new CustosError(
        codeOfStatus(response.status),
        bodyScrubber.redact(`${method} ${path}: ${response.status} ${detail}`),
      );
    },
    errorOf,
  };
}

const isRefusal = (status: number) => status === 401 || status === 403;

function tokenFromEnv(env: NodeJS.ProcessEnv): ServerAuth | undefined {
  const token = [env.CUSTOS_TOKEN, env.VAULT_TOKEN].find((t) => t !== undefined && t !== '');
  return token === undefined ? undefined : { token };
}

function codeOfStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'ERR_PERMISSION_DENIED';
  if (status === 404) return 'ERR_NOT_FOUND';
  if (status === 503) return 'ERR_SEALED';
  return 'ERR_INVALID_REQUEST';
}

/** The client's scrubber plus every string in a request body (an unseal key, a KV value). */
function scrubberFor(base: Scrubber, body: unknown): { redact(text: string): string } {
  const local = createScrubber();
  const visit = (value: unknown, depth: number): void => {
    if (typeof value === 'string') local.add(value);
    else if (depth < 8 && typeof value === 'object' && value !== null) {
      for (const item of Object.values(value)) visit(item, depth + 1);
    }
  };
  visit(body, 0);
  return { redact: (text) => local.redact(base.redact(text)) };
}

interface Connection {
  readonly address: string;
  readonly timeoutMs: number;
  readonly scrubber: Scrubber;
}

async function sendOnce(
  doFetch: typeof fetch,
  { address, timeoutMs, scrubber }: Connection,
  method: string,
  path: string,
  request: ApiRequestOptions,
  token: string | undefined,
): Promise<ApiResponse> {
  const url = `${address}/v1/${checkRequestPath(path, (text) => scrubber.redact(text))}`;
  const headers: Record<string, string> = {
    ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...request.headers,
    ...(token === undefined ? {} : { 'x-vault-token': token }),
  };
  const unreachable = (err: unknown) => {
    const name = (err as { name?: string }).name;
    const reason =
      name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : ((err as { cause?: { code?: unknown } }).cause?.code ?? name ?? 'network error');
    // The reason is a code or an error name only: fetch's own messages may quote the request.
    return new CustosError(
      'ERR_SERVER_UNREACHABLE',
      `cannot reach the server at ${address} (${scrubber.redact(String(reason))}); check CUSTOS_ADDR`,
    );
  };
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal =
    request.signal === undefined ? timeout : AbortSignal.any([timeout, request.signal]);
  let response: Response;
  try {
    response = await doFetch(url, {
      method,
      headers,
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      signal,
      // Never followed: a redirect would carry the token and the body to another server.
      redirect: 'manual',
    });
  } catch (err) {
    throw unreachable(err);
  }
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel().catch(() => {});
    throw new CustosError(
      'ERR_SERVER_REDIRECT',
      `${address} answered ${method} ${path} with a redirect (HTTP ${response.status}) to ${originOf(response.headers.get('location'), url)}; custos never follows redirects, so the token and request go nowhere else: set the address to the server that answers`,
    );
  }
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    throw unreachable(err);
  }
  let body: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = text === '' ? null : JSON.parse(text);
    body =
      typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : null;
  } catch {
    body = null;
  }
  return { status: response.status, body };
}

/** The origin a redirect pointed to — never its path or query, which may carry anything. */
function originOf(location: string | null, requestUrl: string): string {
  if (location === null) return 'no location';
  try {
    const target = new URL(location, requestUrl);
    return target.origin === 'null' ? `a ${target.protocol} URL` : target.origin;
  } catch {
    return 'an unparseable location';
  }
}

/**
 * A client for a library component whose errors have a documented code of their own
 * (`ERR_KMS_REMOTE`, `ERR_SECRET_PROVIDER`): it requires a token, and every error it throws —
 * a refused address at creation, an unreachable server, a redirect — comes under `code`, with
 * the client's own error as `cause` (so `err.cause.code` still tells them apart). @internal
 */
export function createClientReporting(
  code: ErrorCode,
  options: ServerConnectionOptions,
): ServerClient {
  const rethrow = (err: unknown): never => {
    throw isCustosError(err) && err.code !== code
      ? new CustosError(code, err.message, { cause: err })
      : err;
  };
  let client: ServerClient;
  try {
    client = createServerClient(options);
  } catch (err) {
    return rethrow(err);
  }
  if (!client.authenticated) {
    throw new CustosError(code, `no token for ${client.address}: pass auth, or set CUSTOS_TOKEN`);
  }
  return {
    address: client.address,
    authenticated: true,
    call: (method, path, request) => client.call(method, path, request).catch(rethrow),
    request: (method, path, request) => client.request(method, path, request).catch(rethrow),
    errorOf: (response, requestBody) => client.errorOf(response, requestBody),
  };
}
