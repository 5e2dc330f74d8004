import { CustosError } from '../errors/index.js';
import {
  type SessionCookieOptions,
  serializeSessionCookie,
  sessionCookieName,
} from './serialize.js';

/** A `node:http` `ServerResponse`, or anything built on it (an Express `res` is one). */
export interface NodeResponseLike {
  getHeader(name: string): number | string | string[] | undefined;
  setHeader(name: string, value: string | readonly string[]): unknown;
}

/** A Fastify `reply` (recognised by its `raw` response and `header` method). */
export interface FastifyReplyLike {
  readonly raw: unknown;
  header(name: string, value: string): unknown;
}

/** Where a cookie can be set. */
export type CookieResponse = NodeResponseLike | FastifyReplyLike;

/**
 * Sets a session cookie on a `node:http` response, an Express `res` (it is a `ServerResponse`,
 * and custos appends exactly as `res.append` does) or a Fastify `reply`, keeping any
 * `Set-Cookie` headers already set.
 *
 * @example
 * ```ts
 * setSessionCookie(reply, 'session', pair.accessToken, { maxAgeSeconds: 900, hostPrefix: true });
 * ```
 */
export function setSessionCookie(
  res: CookieResponse,
  name: string,
  value: string,
  options: SessionCookieOptions = {},
): void {
  appendSetCookie(res, serializeSessionCookie(name, value, options));
}

/**
 * Removes a session cookie: an empty value with `Max-Age=0` and the same attributes (browsers
 * only drop a cookie whose name, path and domain match).
 *
 * @example
 * ```ts
 * clearSessionCookie(res, 'session', { hostPrefix: true });
 * ```
 */
export function clearSessionCookie(
  res: CookieResponse,
  name: string,
  options: SessionCookieOptions = {},
): void {
  appendSetCookie(res, serializeSessionCookie(name, '', { ...options, maxAgeSeconds: 0 }));
}

function appendSetCookie(res: CookieResponse, cookie: string): void {
  if ('raw' in res && typeof (res as FastifyReplyLike).header === 'function') {
    // Fastify keeps every value given for set-cookie.
    (res as FastifyReplyLike).header('set-cookie', cookie);
    return;
  }
  const node = res as NodeResponseLike;
  if (typeof node.getHeader !== 'function' || typeof node.setHeader !== 'function') {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'res must be a node:http ServerResponse, an Express res or a Fastify reply',
    );
  }
  const existing = node.getHeader('set-cookie');
  const list =
    existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  node.setHeader('set-cookie', [...list, cookie]);
}

/** A request, its headers, or a raw `Cookie` header. */
export type CookieSource =
  | string
  | undefined
  | { readonly headers: { readonly cookie?: string | undefined } }
  | { readonly cookie?: string | undefined };

/**
 * Reads a session cookie from a request (`node:http`, Express or Fastify), applying the same
 * `__Host-` prefix as when it was set.
 *
 * @example
 * ```ts
 * const token = readSessionCookie(req, 'session', { hostPrefix: true });
 * ```
 */
export function readSessionCookie(
  source: CookieSource,
  name: string,
  options: Pick<SessionCookieOptions, 'hostPrefix'> = {},
): string | undefined {
  const fullName = sessionCookieName(name, options);
  const header =
    typeof source === 'string' || source === undefined
      ? source
      : 'headers' in source
        ? source.headers.cookie
        : source.cookie;
  if (typeof header !== 'string') return undefined;
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === fullName) return pair.slice(at + 1).trim();
  }
  return undefined;
}
