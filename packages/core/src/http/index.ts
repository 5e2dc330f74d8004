/**
 * Transport security for HTTP servers: security headers on helmet (HSTS, CSP with nonces,
 * `Permissions-Policy`, `Cache-Control: no-store` on sensitive responses) for Express/Connect,
 * Fastify and `node:http`, configured from the environment; an HTTPS redirect that believes
 * `X-Forwarded-Proto` only from configured proxies. Guide: `docs/transport.md`.
 *
 * @example
 * ```ts
 * import { securityHeaders } from '@custos/core/http';
 * app.use(securityHeaders()); // HSTS_MAX_AGE, HSTS_INCLUDE_SUBDOMAINS, HSTS_PRELOAD
 * ```
 * @module
 */
export { type FastifyInstanceLike, fastifySecurityHeaders } from './fastify-security-headers.js';
export {
  fastifyHttpsRedirect,
  type HttpsRedirectOptions,
  httpsRedirect,
  withHttpsRedirect,
} from './https-redirect.js';
export {
  type ConnectMiddleware,
  securityHeaders,
  withSecurityHeaders,
} from './security-headers.js';
export {
  type CspOptions,
  DEFAULT_PERMISSIONS_POLICY,
  HSTS_PRELOAD_MIN_AGE_SECONDS,
  type HstsOptions,
  type NoStorePolicy,
  type SecurityHeadersOptions,
  securityHeadersOptionsFromEnv,
} from './security-headers-options.js';
export { cspNonce, markSensitive, type ResponseLike } from './sensitive.js';
