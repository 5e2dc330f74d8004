/** The HTTP API (/v1/), called with the session's token in `X-Vault-Token`. */

/** An answer other than 2xx, with the server's `errors`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: readonly string[],
    readonly path: string,
  ) {
    super(errors.length > 0 ? errors.join('; ') : `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

/** The success envelope's parts the dashboard reads. */
export interface Envelope<T> {
  readonly data: T;
  readonly auth: { readonly client_token: string; readonly policies: string[] } | null;
}

export interface RequestOptions {
  readonly body?: unknown;
  /** Statuses answered with a body that is read rather than thrown (sys/health: 503, 501). */
  readonly accept?: readonly number[];
}

/** One API call; `path` is under /v1/, its segments already encoded. */
export async function call<T>(
  token: string | undefined,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  options: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers['X-Vault-Token'] = token;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`/v1/${path}`, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    });
  } catch {
    throw new ApiError(0, ['the server cannot be reached'], path);
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  if (response.ok || options.accept?.includes(response.status)) return body as T;
  const errors = (body as { errors?: unknown } | null)?.errors;
  throw new ApiError(
    response.status,
    Array.isArray(errors) ? errors.map(String) : [],
    path.split('?')[0] ?? path,
  );
}

/** A path of names, each segment encoded (`app/db x` → `app/db%20x`). */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** What to tell the user about a failed call. */
export function describeError(error: unknown, action: string): string {
  if (!(error instanceof ApiError)) return `Could not ${action}: ${String(error)}`;
  const path = decodeURIComponentSafe(error.path);
  switch (error.status) {
    case 403:
      return `Permission denied: your token's policies do not allow you to ${action} (${path}).`;
    case 404:
      return `Not found: ${path}.`;
    case 503:
      return 'The server is sealed or unavailable: unseal it, then try again.';
    case 0:
      return `Could not ${action}: the server cannot be reached.`;
    default:
      return `Could not ${action}: ${error.message}`;
  }
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * A JSON merge patch (`PATCH`, `application/merge-patch+json`): what changes a secret's custom
 * metadata label by label (`null` removes one), so labels set by others stay as they are.
 *
 * @example
 * ```ts
 * await patchCall(token, 'secret/metadata/app/db', { custom_metadata: { data_class: 'PHI' } });
 * ```
 */
export async function patchCall<T>(token: string, path: string, body: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`/v1/${path}`, {
      method: 'PATCH',
      headers: { 'X-Vault-Token': token, 'Content-Type': 'application/merge-patch+json' },
      body: JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    });
  } catch {
    throw new ApiError(0, ['the server cannot be reached'], path);
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (response.ok) return parsed as T;
  const errors = (parsed as { errors?: unknown } | null)?.errors;
  throw new ApiError(response.status, Array.isArray(errors) ? errors.map(String) : [], path);
}
