import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Methods that change nothing: open to requests from any site. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Why a request is refused as coming from another site's page, or `undefined` when it is not.
 * Browsers say where a request comes from in `Sec-Fetch-Site` (every current one does); other
 * clients (the CLI, SDKs, curl) do not send it and are never refused here. The dashboard's own
 * requests are `same-origin`. `Origin` is not compared with `Host`: behind a reverse proxy that
 * rewrites `Host` the dashboard's own requests would be refused.
 */
function crossSiteReason(request: FastifyRequest): string | undefined {
  const site = request.headers['sec-fetch-site'];
  if (site === undefined || site === 'same-origin' || site === 'none') return undefined;
  // Named only when it is a value browsers send: the header is never echoed as it came.
  return `Sec-Fetch-Site: ${site === 'cross-site' || site === 'same-site' ? site : 'not same-origin'}`;
}

/**
 * Refuses (403, before admission and audit) a request that changes state and that a browser
 * sent from another site's page: a form or a `fetch` without custom headers needs no CORS
 * preflight, so without this any page an operator opens could start a rekey or a root
 * generation, or log in with AppRole, on a server only the operator's browser can reach. Reads
 * (GET, HEAD) stay open: another site's page cannot read their answers (no CORS headers are
 * sent) and they change nothing.
 *
 * @example
 * ```ts
 * registerCrossSiteGuard(app);
 * ```
 */
export function registerCrossSiteGuard(app: FastifyInstance): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (SAFE_METHODS.has(request.method)) return;
    const reason = crossSiteReason(request);
    if (reason === undefined) return;
    await reply
      .code(403)
      .header('content-type', 'application/json')
      .send({
        errors: [
          `cross-site request refused (${reason}): requests from another site's page cannot change state`,
        ],
      });
  });
}
