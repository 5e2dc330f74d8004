import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Methods that change nothing: open to requests from any site. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The host and port an `Origin` names, or `undefined` for `null` or anything unreadable. */
function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/**
 * Why a request is refused as coming from another site's page, or `undefined` when it is not.
 * Browsers say where a request comes from in `Sec-Fetch-Site`, but only to HTTPS and loopback
 * addresses (and older ones never): without it, a browser's POST still carries `Origin`, which
 * must then name this server's host and port as the request reached it (`Host`; the scheme is
 * not compared, a proxy may end TLS); `Origin: null` (a sandboxed frame, a file) is refused.
 * Other clients (the CLI, SDKs, curl) send neither and are never refused here. The dashboard's
 * own requests are same-origin either way.
 */
function crossSiteReason(request: FastifyRequest): string | undefined {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) {
    if (site === 'same-origin' || site === 'none') return undefined;
    // Named only when it is a value browsers send: the header is never echoed as it came.
    return `Sec-Fetch-Site: ${site === 'cross-site' || site === 'same-site' ? site : 'not same-origin'}`;
  }
  const origin = request.headers.origin;
  if (origin === undefined) return undefined;
  const host = hostOf(origin);
  return host !== undefined && host === request.headers.host ? undefined : 'Origin';
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
  // A callback hook: every request passes here, and most only need the method looked at.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const reason = SAFE_METHODS.has(request.method) ? undefined : crossSiteReason(request);
    if (reason === undefined) {
      done();
      return;
    }
    // Answered here: `done` is not called, so nothing after this hook runs.
    void reply
      .code(403)
      .header('content-type', 'application/json')
      .send({
        errors: [
          `cross-site request refused (${reason}): requests from another site's page cannot change state`,
        ],
      });
  });
}
