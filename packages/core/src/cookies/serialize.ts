import { CustosError } from '../errors/index.js';

/** Options for session cookies. */
export interface SessionCookieOptions {
  /** Lifetime in seconds; omit for a cookie that ends with the browser session. */
  readonly maxAgeSeconds?: number;
  /**
   * `strict` (default), `lax` (needed when users arrive by links from other sites) or `none`
   * (cross-site requests too; only with `Secure`).
   */
  readonly sameSite?: 'strict' | 'lax' | 'none';
  /** Default true: scripts cannot read the cookie. */
  readonly httpOnly?: boolean;
  /**
   * Name the cookie `__Host-<name>`: browsers then accept it only with `Secure`, `Path=/` and
   * no `Domain`, so a subdomain or a plain-HTTP page cannot plant or overwrite it.
   */
  readonly hostPrefix?: boolean;
  /** Default `/` (and always `/` with `hostPrefix`). */
  readonly path?: string;
  /** Not allowed with `hostPrefix`. */
  readonly domain?: string;
  /** Default: true, except when `environment` is `development`. */
  readonly secure?: boolean;
  /** Default `process.env.NODE_ENV`. */
  readonly environment?: string;
}

const SAME_SITE: readonly string[] = ['strict', 'lax', 'none'];
const SAME_SITE_ATTRIBUTE = { strict: 'Strict', lax: 'Lax', none: 'None' } as const;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 6265 cookie-octet: visible ASCII except space, DQUOTE, comma, semicolon and backslash.
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;
/** A host name for `Domain=` (a leading dot is allowed and ignored by browsers). @internal */
export const DOMAIN = /^\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/;
const PATH = /^\/[\x21-\x3A\x3C-\x7E]*$/;

/**
 * The cookie's name as sent: `__Host-<name>` with `hostPrefix`.
 *
 * @example
 * ```ts
 * sessionCookieName('session', { hostPrefix: true }); // "__Host-session"
 * ```
 */
export function sessionCookieName(name: string, options: SessionCookieOptions = {}): string {
  if (typeof name !== 'string' || !TOKEN.test(name)) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      "a cookie name must be an HTTP token (letters, digits, !#$%&'*+-.^_`|~)",
    );
  }
  return options.hostPrefix ? `__Host-${name}` : name;
}

/**
 * The `Set-Cookie` header value for a session cookie: `HttpOnly` unless turned off; `Secure`
 * unless in development; `SameSite=Strict` unless `lax` or `none` (with `Secure`) is asked for. The value must already be
 * cookie-safe (a JWT, base64url or hex is); it is never echoed in an error.
 *
 * @example
 * ```ts
 * serializeSessionCookie('session', token, { maxAgeSeconds: 900, hostPrefix: true });
 * // "__Host-session=eyJ…; Max-Age=900; Path=/; HttpOnly; Secure; SameSite=Strict"
 * ```
 */
export function serializeSessionCookie(
  name: string,
  value: string,
  options: SessionCookieOptions = {},
): string {
  const fullName = sessionCookieName(name, options);
  if (typeof value !== 'string' || value.length > 4096 || !COOKIE_VALUE.test(value)) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `the value of cookie "${fullName}" is not cookie-safe (use base64url or hex, at most 4096 characters)`,
    );
  }
  const sameSite = options.sameSite ?? 'strict';
  if (!SAME_SITE.includes(sameSite)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'sameSite must be "strict", "lax" or "none"');
  }
  const httpOnly = options.httpOnly ?? true;
  if (typeof httpOnly !== 'boolean') {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'httpOnly must be true or false');
  }
  const environment = options.environment ?? process.env.NODE_ENV;
  let secure = options.secure ?? environment !== 'development';
  const path = options.path ?? '/';
  if (options.hostPrefix) {
    if (options.secure === false || options.domain !== undefined || path !== '/') {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        '__Host- cookies need Secure, Path=/ and no Domain (browsers treat http://localhost as secure)',
      );
    }
    secure = true;
  }
  if (sameSite === 'none' && !secure) {
    // Browsers reject SameSite=None without Secure; refusing says why instead.
    throw new CustosError('ERR_INVALID_ARGUMENT', 'SameSite=None needs Secure');
  }
  if (!PATH.test(path)) throw new CustosError('ERR_INVALID_ARGUMENT', 'path must start with "/"');
  const parts = [`${fullName}=${value}`];
  if (options.maxAgeSeconds !== undefined) {
    if (!Number.isSafeInteger(options.maxAgeSeconds) || options.maxAgeSeconds < 0) {
      throw new CustosError('ERR_INVALID_ARGUMENT', 'maxAgeSeconds must be a whole number ≥ 0');
    }
    parts.push(`Max-Age=${options.maxAgeSeconds}`);
  }
  if (options.domain !== undefined) {
    if (!DOMAIN.test(options.domain))
      throw new CustosError('ERR_INVALID_ARGUMENT', 'domain is not a host name');
    parts.push(`Domain=${options.domain}`);
  }
  parts.push(`Path=${path}`);
  if (httpOnly) parts.push('HttpOnly');
  if (secure) parts.push('Secure');
  parts.push(`SameSite=${SAME_SITE_ATTRIBUTE[sameSite]}`);
  return parts.join('; ');
}
