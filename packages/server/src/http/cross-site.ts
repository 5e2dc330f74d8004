import { isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { cidrList } from './client-address.js';

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
  // URL lower-cases the origin's host; a Host header's name is case-insensitive too.
  return host !== undefined && host === request.headers.host?.toLowerCase() ? undefined : 'Origin';
}

const LOOPBACK = cidrList(['127.0.0.0/8', '::1/128'], 'loopback');

/**
 * Whether a connection's local address is a loopback one (IPv4, IPv6, IPv4-mapped).
 *
 * @example
 * ```ts
 * isLoopback('::ffff:127.0.0.1'); // true
 * ```
 */
export function isLoopback(address: string | undefined): boolean {
  return LOOPBACK.has(address);
}

/** Whether a `Host` header's name is one a page on another site cannot make its own. */
function isOwnName(hostHeader: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (hostHeader === undefined) return false;
  let name: string;
  try {
    name = new URL(`http://${hostHeader}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  // An address cannot be re-pointed; `localhost` and `*.localhost` always resolve to loopback.
  if (isIP(name.replace(/^\[|\]$/g, '')) !== 0) return true;
  return name === 'localhost' || name.endsWith('.localhost') || allowed.has(name);
}

/**
 * Why a browser's request that changes state is refused, or `undefined` when it is not: one
 * from another site's page (see `crossSiteReason`), or one that reached this server over
 * loopback under a name other than `localhost`, an address or one of `allowedHosts`. The
 * second is DNS rebinding: a page whose name the attacker re-points at 127.0.0.1 is, to the
 * browser, same-origin with the server, so only the name it used tells it apart. Requests of
 * clients that are not browsers (no `Sec-Fetch-Site`, no `Origin`) are never refused here.
 */
function refusalOf(request: FastifyRequest, allowed: ReadonlySet<string>): string | undefined {
  const reason = crossSiteReason(request);
  if (reason !== undefined)
    return `cross-site request refused (${reason}): requests from another site's page cannot change state`;
  const fromBrowser =
    request.headers['sec-fetch-site'] !== undefined || request.headers.origin !== undefined;
  const local = request.socket.localAddress;
  // An unknown local address is judged as loopback (fail closed): refused unless the name is.
  if (!fromBrowser || (local !== undefined && !isLoopback(local))) return undefined;
  if (isOwnName(request.headers.host, allowed)) return undefined;
  return "request refused (Host): a browser reached this server over loopback under a name that is not localhost, an address or one of the server's allowedHosts; another site may have pointed its name here (DNS rebinding)";
}

/**
 * Refuses (403, before admission and audit) a request that changes state and that a browser
 * sent from another site's page: a form or a `fetch` without custom headers needs no CORS
 * preflight, so without this any page an operator opens could start a rekey or a root
 * generation, or log in with AppRole, on a server only the operator's browser can reach; and
 * the same from a page that re-pointed its own name at a server listening on loopback (DNS
 * rebinding: it could initialise a fresh server and read the keys). Reads (GET, HEAD) stay
 * open: they change nothing, and another site's page cannot read their answers (no CORS headers
 * are sent); a page that re-points its name can read what needs no token (seal status, health,
 * the progress of a rekey or root generation), as browsers send no header that tells it apart
 * on a read over plain HTTP.
 *
 * @example
 * ```ts
 * registerCrossSiteGuard(app, ['vault.example.com']);
 * ```
 */
export function registerCrossSiteGuard(
  app: FastifyInstance,
  /** Host names a browser may use over loopback besides localhost and addresses (any case). */
  allowedHosts: readonly string[],
): void {
  const allowed = new Set(allowedHosts.map((name) => name.toLowerCase()));
  // A callback hook: every request passes here, and most only need the method looked at.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const refusal = SAFE_METHODS.has(request.method) ? undefined : refusalOf(request, allowed);
    if (refusal === undefined) {
      done();
      return;
    }
    // Answered here: `done` is not called, so nothing after this hook runs.
    void reply
      .code(403)
      .header('content-type', 'application/json')
      .send({ errors: [refusal] });
  });
}
