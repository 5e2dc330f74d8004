import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHeaderApplier } from './apply-headers.js';
import {
  type SecurityHeadersOptions,
  securityHeadersOptionsFromEnv,
} from './security-headers-options.js';

/** A Connect/Express middleware. */
export type ConnectMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;

/**
 * Security headers for Express and Connect, on helmet: HSTS, CSP with a nonce per response,
 * `Permissions-Policy`, helmet's other headers, and `Cache-Control: no-store` on every response
 * (`noStore: 'all'`) or on those passed to `markSensitive`. Options default to
 * {@link securityHeadersOptionsFromEnv} (`HSTS_MAX_AGE`, `HSTS_INCLUDE_SUBDOMAINS`,
 * `HSTS_PRELOAD`); a bad or inconsistent configuration throws here, at start-up.
 *
 * @example
 * ```ts
 * import { securityHeaders, cspNonce } from '@custos/core/http';
 * app.use(securityHeaders());
 * app.get('/', (req, res) => res.send(`<script nonce="${cspNonce(res)}">…</script>`));
 * ```
 */
export function securityHeaders(
  options: SecurityHeadersOptions = securityHeadersOptionsFromEnv(),
): ConnectMiddleware {
  const apply = createHeaderApplier(options);
  return (req, res, next) => {
    try {
      apply(req, res);
    } catch (err) {
      next(err);
      return;
    }
    next();
  };
}

/**
 * Wraps a `node:http` request handler so every response carries the security headers of
 * {@link securityHeaders}.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { withSecurityHeaders } from '@custos/core/http';
 * createServer(withSecurityHeaders((req, res) => res.end('ok'), { noStore: 'all' }));
 * ```
 */
export function withSecurityHeaders<
  Req extends IncomingMessage = IncomingMessage,
  Res extends ServerResponse<Req> = ServerResponse<Req>,
>(
  handler: (req: Req, res: Res) => void,
  options: SecurityHeadersOptions = securityHeadersOptionsFromEnv(),
): (req: Req, res: Res) => void {
  const apply = createHeaderApplier(options);
  return (req, res) => {
    apply(req, res as unknown as ServerResponse);
    handler(req, res);
  };
}
