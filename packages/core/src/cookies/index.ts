/**
 * Session cookies set safely for Express, Fastify and `node:http`: `HttpOnly`, `Secure`
 * outside development, `SameSite=Strict` by default (`Lax`, or `None` with `Secure`, allowed),
 * optional `__Host-` prefix; defaults from `COOKIE_*` variables with
 * `sessionCookieOptionsFromEnv`. See `docs/passwords-and-api-keys.md` and `docs/transport.md`.
 *
 * @example
 * ```ts
 * import { setSessionCookie, readSessionCookie } from '@custos/core/cookies';
 * setSessionCookie(res, 'session', token, { maxAgeSeconds: 900, hostPrefix: true });
 * const token = readSessionCookie(req, 'session', { hostPrefix: true });
 * ```
 * @module
 */
export { sessionCookieOptionsFromEnv } from './cookie-env.js';
export {
  type CookieResponse,
  type CookieSource,
  clearSessionCookie,
  type FastifyReplyLike,
  type NodeResponseLike,
  readSessionCookie,
  setSessionCookie,
} from './response.js';
export {
  type SessionCookieOptions,
  serializeSessionCookie,
  sessionCookieName,
} from './serialize.js';
