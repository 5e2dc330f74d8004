import { CustosError } from '@custos/core/errors';
import type { FastifyRequest } from 'fastify';

/** Longest API path accepted (Vault has no fixed limit; this keeps storage keys sane). */
export const MAX_PATH_LENGTH = 1024;

const PREFIX = '/v1/';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/**
 * The request's API path after `/v1/`, decoded, e.g. `secret/data/app/db`: the one reading of
 * the path that the ACL judges, the audit log records and the handler serves.
 *
 * It is the router's reading (the matched route's pattern filled with the parameters the
 * handler receives), and it must equal the literal request path, percent-decoded; anything
 * read two ways is refused with 400 rather than guessed at:
 * - a `#` anywhere (the router ends the path there, so `sys/seal#x` would be served as
 *   `sys/seal` but judged as something else), a raw `;` in the path (routers and proxies may
 *   end the path there too), and any target that is not a plain path under `/v1/` (the
 *   absolute form `http://host/v1/…`);
 * - a `%2F` inside a one-segment parameter (`transit/keys/a%2Frotate`), whose segments would
 *   no longer line up with the route's;
 * - empty, `.` or `..` segments, control characters, excessive length.
 * Unrouted requests (404) have only the literal reading; nothing is served for them.
 *
 * @example
 * ```ts
 * apiPathOf(request); // 'secret/data/app/db' for GET /v1/secret/data/app/db?version=2
 * ```
 */
export function apiPathOf(request: FastifyRequest): string {
  const target = request.url;
  if (!target.startsWith(PREFIX)) throw invalid('the request path must start with /v1/');
  if (target.includes('#')) {
    throw invalid("'#' is not allowed in a request (encode it as %23 if it is part of a name)");
  }
  const queryStart = target.indexOf('?');
  const raw = target.slice(PREFIX.length, queryStart === -1 ? undefined : queryStart);
  if (raw.includes(';')) {
    throw invalid(
      "';' is not allowed in a request path (encode it as %3B if it is part of a name)",
    );
  }
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    throw invalid('malformed URL encoding in path');
  }
  checkPath(path);
  const routed = routedPath(request);
  if (routed !== undefined && routed !== path) {
    throw invalid('the path is not in canonical form (the router reads it differently)');
  }
  return path;
}

function checkPath(path: string): void {
  if (path.length > MAX_PATH_LENGTH) {
    throw invalid(`path longer than ${MAX_PATH_LENGTH} characters`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(path)) {
    throw invalid('path contains control characters');
  }
  const segments = path.split('/');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    // A trailing slash (directory listing) leaves one empty last segment; that one is fine.
    if ((segment === '' && i !== segments.length - 1) || segment === '.' || segment === '..') {
      throw invalid('path has an empty, "." or ".." segment');
    }
  }
}

/** The matched route's pattern filled with the router's parameters; undefined when unrouted. */
function routedPath(request: FastifyRequest): string | undefined {
  const pattern = request.routeOptions.url;
  if (pattern === undefined) return undefined;
  return patternReading(pattern, request.params as Record<string, string | undefined>);
}

/**
 * A route pattern filled with the parameters a router read for it, without `/v1/`: the path
 * as the route reads it. Refuses a `/` inside a `:param` (sent encoded as `%2F`).
 *
 * @example
 * ```ts
 * patternReading('/v1/:mount/data/*', { mount: 'kv', '*': 'a/b' }); // 'kv/data/a/b'
 * ```
 */
export function patternReading(
  pattern: string,
  params: Readonly<Record<string, string | undefined>>,
): string {
  return pattern.slice(PREFIX.length).replace(/:([A-Za-z_]+)|\*/g, (_match, name?: string) => {
    const value = params[name ?? '*'] ?? '';
    if (name !== undefined && value.includes('/')) {
      throw invalid(`'/' is not allowed within :${name} (it was sent encoded as %2F)`);
    }
    return value;
  });
}
