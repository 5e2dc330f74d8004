import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { CustosError } from '../errors/index.js';
import type { FastifyInstanceLike } from './fastify-security-headers.js';
import type { ConnectMiddleware } from './security-headers.js';

/** Options of the HTTPS redirect. */
export interface HttpsRedirectOptions {
  /**
   * Addresses or CIDR ranges of the proxies in front (`10.0.0.0/8`, `::1`). Only a request
   * whose connection comes from one of them has its `X-Forwarded-Proto` believed; from anyone
   * else the header is ignored, so a client cannot claim `https` to dodge the redirect.
   */
  readonly trustedProxies?: readonly string[];
  /**
   * Host names a redirect may go to (compared case-insensitively, without port). A request for
   * any other `Host` gets 400 instead of a redirect, so the `Host` header cannot steer users or
   * caches elsewhere. Required: an empty list is refused.
   */
  readonly allowedHosts: readonly string[];
  /** The HTTPS port to redirect to (default 443: no port in the URL). */
  readonly httpsPort?: number;
}

const HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

function proxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/') as [string, string | undefined];
    const family = isIP(address);
    const bits =
      prefix === undefined ? undefined : /^\d{1,3}$/.test(prefix) ? Number(prefix) : Number.NaN;
    if (family === 0 || (bits !== undefined && !(bits >= 0 && bits <= (family === 4 ? 32 : 128)))) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `trustedProxies: "${entry}" is not an IP address or CIDR range`,
      );
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return list;
}

/** The peer's address, IPv4-mapped IPv6 (`::ffff:10.0.0.1`) read as IPv4. */
function peerAddress(req: IncomingMessage): { address: string; type: 'ipv4' | 'ipv6' } | undefined {
  const raw = req.socket.remoteAddress;
  if (raw === undefined) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(raw)?.[1];
  const address = mapped ?? raw;
  return { address, type: isIP(address) === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * Builds the redirect check: true when it answered the request (308 to `https://`, or 400 for
 * a host not allowed), false when the request already came over HTTPS.
 * @internal
 */
export function createHttpsRedirect(
  options: HttpsRedirectOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const proxies = proxyList(options.trustedProxies ?? []);
  const hosts = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase()));
  if (hosts.size === 0 || [...hosts].some((h) => !HOST.test(h))) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'allowedHosts must list the host names to redirect to',
    );
  }
  const port = options.httpsPort ?? 443;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'httpsPort must be 1 to 65535');
  }
  return (req, res) => {
    if ((req.socket as { encrypted?: boolean }).encrypted === true) return false;
    const peer = peerAddress(req);
    if (peer !== undefined && proxies.check(peer.address, peer.type)) {
      const header = req.headers['x-forwarded-proto'];
      // The nearest proxy writes (or appends) the last value.
      const proto = (Array.isArray(header) ? header.at(-1) : header)
        ?.split(',')
        .at(-1)
        ?.trim()
        .toLowerCase();
      if (proto === 'https') return false;
    }
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    if (!hosts.has(host)) {
      res.statusCode = 400;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end('this host is not served over HTTPS here\n');
      return true;
    }
    const path = (req.url ?? '/').startsWith('/') ? (req.url ?? '/') : '/';
    res.statusCode = 308;
    res.setHeader('location', `https://${host}${port === 443 ? '' : `:${port}`}${path}`);
    res.setHeader('cache-control', 'no-store');
    res.end();
    return true;
  };
}

/**
 * Redirects plain-HTTP requests to HTTPS (308, method and body kept) for Express and Connect.
 * Behind a proxy that ends TLS, `X-Forwarded-Proto: https` counts only from `trustedProxies`;
 * redirects go only to `allowedHosts`.
 *
 * @example
 * ```ts
 * app.use(httpsRedirect({ trustedProxies: ['10.0.0.0/8'], allowedHosts: ['app.example.com'] }));
 * ```
 */
export function httpsRedirect(options: HttpsRedirectOptions): ConnectMiddleware {
  const redirect = createHttpsRedirect(options);
  return (req, res, next) => {
    if (!redirect(req, res)) next();
  };
}

/**
 * Wraps a `node:http` request handler with {@link httpsRedirect}: the handler runs only for
 * requests that came over HTTPS.
 *
 * @example
 * ```ts
 * createServer(withHttpsRedirect(handler, { trustedProxies: ['127.0.0.1'], allowedHosts: ['app.example.com'] }));
 * ```
 */
export function withHttpsRedirect<Req extends IncomingMessage, Res extends ServerResponse<Req>>(
  handler: (req: Req, res: Res) => void,
  options: HttpsRedirectOptions,
): (req: Req, res: Res) => void {
  const redirect = createHttpsRedirect(options);
  return (req, res) => {
    if (!redirect(req, res as unknown as ServerResponse)) handler(req, res);
  };
}

/**
 * The Fastify plugin of {@link httpsRedirect} (not encapsulated).
 *
 * @example
 * ```ts
 * await app.register(fastifyHttpsRedirect, { trustedProxies: ['127.0.0.1'], allowedHosts: ['app.example.com'] });
 * ```
 */
export const fastifyHttpsRedirect = Object.assign(
  async function custosHttpsRedirect(
    app: FastifyInstanceLike,
    options: HttpsRedirectOptions,
  ): Promise<void> {
    const redirect = createHttpsRedirect(options);
    app.addHook(
      'onRequest',
      (
        request: { raw: IncomingMessage },
        reply: { raw: ServerResponse; hijack(): void },
        done: () => void,
      ) => {
        if (redirect(request.raw, reply.raw)) {
          reply.hijack();
          return;
        }
        done();
      },
    );
  },
  {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'custos-https-redirect',
  },
);
