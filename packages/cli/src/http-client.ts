import { CustosError } from '@custos/core/errors';

/** Where the server is and who we are: `CUSTOS_ADDR`/`CUSTOS_TOKEN`, or `VAULT_ADDR`/`VAULT_TOKEN`. */
export interface ServerTarget {
  readonly address: string;
  readonly token: string | undefined;
}

/** Resolves the target from flags, then the environment. */
export function serverTarget(flags: { address?: string; token?: string } = {}): ServerTarget {
  const address =
    flags.address ?? process.env.CUSTOS_ADDR ?? process.env.VAULT_ADDR ?? 'http://127.0.0.1:8200';
  const token = flags.token ?? process.env.CUSTOS_TOKEN ?? process.env.VAULT_TOKEN;
  return { address: address.replace(/\/+$/, ''), token: token === '' ? undefined : token };
}

/** A response from the server: status and parsed JSON body (or null). */
export interface ApiResponse {
  readonly status: number;
  readonly body: Record<string, unknown> | null;
}

/**
 * Calls the server's HTTP API. Network failures and error statuses become a `CustosError`
 * whose message is the server's own error text (which never holds secret values).
 *
 * @example
 * ```ts
 * const { body } = await api(serverTarget(), 'GET', 'secret/data/app/db');
 * ```
 */
export async function api(
  target: ServerTarget,
  method: string,
  path: string,
  body?: unknown,
  options: { allowStatus?: readonly number[]; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (target.token !== undefined) headers['x-vault-token'] = target.token;
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  let response: Response;
  try {
    response = await fetch(`${target.address}/v1/${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `cannot reach the server at ${target.address} (${cause}); set CUSTOS_ADDR`,
    );
  }
  const text = await response.text();
  let parsed: Record<string, unknown> | null = null;
  if (text.length > 0) {
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = null;
    }
  }
  if (response.status >= 400 && !options.allowStatus?.includes(response.status)) {
    const errors = Array.isArray(parsed?.errors) ? (parsed.errors as string[]) : [];
    const detail = errors.length > 0 ? errors.join('; ') : response.statusText || 'no details';
    throw new CustosError(
      response.status === 403
        ? 'ERR_PERMISSION_DENIED'
        : response.status === 503
          ? 'ERR_SEALED'
          : 'ERR_INVALID_REQUEST',
      `${method} ${path}: ${response.status} ${detail}`,
    );
  }
  return { status: response.status, body: parsed };
}
