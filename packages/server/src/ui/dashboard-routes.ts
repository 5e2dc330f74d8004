import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type DashboardAsset,
  type DashboardAssets,
  loadDashboardAssets,
} from './dashboard-assets.js';

/** Where the dashboard's build is: a directory, or none (the routes then say it is not built). */
export interface DashboardOptions {
  readonly dir: string | undefined;
}

/**
 * What the build puts where the nonce of a page load goes (Vite's `html.cspNonce`, in
 * packages/ui/vite.config.ts); each load of index.html gets a fresh nonce in its place.
 */
export const CSP_NONCE_PLACEHOLDER = '__CUSTOS_CSP_NONCE__';

/**
 * The dashboard's Content-Security-Policy: its own scripts, styles and images only, no inline
 * script, no framing, requests to this server only (the API at /v1/). Inline styles only with
 * the page load's `nonce`: React Aria adds two small `<style>` elements and gives them the nonce
 * it finds in the page's `csp-nonce` meta tag.
 */
export function dashboardCsp(nonce?: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    nonce === undefined ? "style-src 'self'" : `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Revalidated on every load, so a new build is picked up at once. */
const REVALIDATE = 'no-cache';

const NOT_BUILT =
  'The custos dashboard is not built. In the custos repository, run `npm run build -w @custos/ui` ' +
  '(the root `npm run build` does it too); elsewhere, start the server with `ui: { dir }` naming ' +
  'a build. The HTTP API at /v1/ works without it.\n';

/**
 * The path of a request under `/ui/`, decoded; undefined for a path that could be read two
 * ways: an encoded or literal backslash, an encoded `/`, malformed encoding, control
 * characters, or an empty, `.` or `..` segment (before or after decoding). Files are found
 * by this path in a map, never on disk, so nothing outside the build is reachable anyway.
 */
export function dashboardPathOf(url: string): string | undefined {
  const queryStart = url.indexOf('?');
  const raw = url.slice('/ui/'.length, queryStart === -1 ? undefined : queryStart);
  if (/%2f|%5c|\\/i.test(raw)) return undefined;
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(path)) return undefined;
  const segments = path.split('/');
  const bad = segments.some(
    (segment, i) =>
      segment === '.' || segment === '..' || (segment === '' && i !== segments.length - 1),
  );
  return bad ? undefined : path;
}

/** Whether the client takes a gzip body (`Accept-Encoding`, a q of 0 refuses). */
function acceptsGzip(request: FastifyRequest): boolean {
  const header = request.headers['accept-encoding'];
  if (typeof header !== 'string') return false;
  return header.split(',').some((part) => {
    const [name = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return (name === 'gzip' || name === '*') && (q === undefined || Number(q.slice(2)) > 0);
  });
}

/**
 * Serves the dashboard's build at `/ui/` (`/ui` redirects there): its files from memory with
 * their content types, hashed assets cached for a year, `index.html` revalidated on every
 * load (with a fresh CSP nonce) and served for every other path (the app's own routes), all
 * under {@link dashboardCsp}. A missing build is a 503 saying how to build it. The routes are
 * `asset` routes: the boundary admits them without token, ACL or audit (route-access.ts).
 *
 * @example
 * ```ts
 * registerDashboard(app, { dir: defaultDashboardDir() });
 * ```
 */
export function registerDashboard(app: FastifyInstance, options: DashboardOptions): void {
  let loading: Promise<DashboardAssets | undefined> | undefined;
  // Read once found; while it is missing, looked for again at each request (a build made
  // after the start is then served without a restart).
  const assets = (): Promise<DashboardAssets | undefined> => {
    if (options.dir === undefined) return Promise.resolve(undefined);
    loading ??= loadDashboardAssets(options.dir).then(
      (found) => {
        if (found === undefined) loading = undefined;
        return found;
      },
      (err: unknown) => {
        loading = undefined;
        throw err;
      },
    );
    return loading;
  };
  // The caching an answer allows; set last, after the server's `no-store` on every answer.
  const cacheControl = new WeakMap<FastifyReply, string>();

  const send = (request: FastifyRequest, reply: FastifyReply, asset: DashboardAsset) => {
    cacheControl.set(reply, asset.immutable ? IMMUTABLE : REVALIDATE);
    reply.header('content-type', asset.contentType);
    if (asset.contentType.startsWith('text/html')) {
      // A fresh nonce for each load (never a cached one: the page is revalidated each time).
      const nonce = randomBytes(18).toString('base64');
      reply.header('content-security-policy', dashboardCsp(nonce));
      return reply.send(asset.body.toString('utf8').replaceAll(CSP_NONCE_PLACEHOLDER, nonce));
    }
    if (asset.gzip === undefined) return reply.send(asset.body);
    reply.header('vary', 'accept-encoding');
    if (!acceptsGzip(request)) return reply.send(asset.body);
    reply.header('content-encoding', 'gzip');
    return reply.send(asset.gzip);
  };
  const text = (reply: FastifyReply, status: number, message: string) =>
    reply.code(status).header('content-type', 'text/plain; charset=utf-8').send(message);

  const serve = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('content-security-policy', dashboardCsp());
    const path = dashboardPathOf(request.url);
    if (path === undefined) return text(reply, 400, 'invalid dashboard path\n');
    const files = await assets();
    if (files === undefined) return text(reply, 503, NOT_BUILT);
    const file = files.get(path === '' ? 'index.html' : path);
    if (file !== undefined) return send(request, reply, file);
    // A missing hashed asset (a page from an older build): no HTML in place of a script.
    if (path.startsWith('assets/')) return text(reply, 404, 'not found\n');
    return send(request, reply, files.get('index.html')!);
  };

  void app.register(async (scope) => {
    scope.addHook('onSend', async (_request, reply, payload) => {
      const policy = cacheControl.get(reply);
      if (policy !== undefined) reply.header('cache-control', policy);
      return payload;
    });
    const config = { group: 'ui', access: { asset: true } };
    scope.route({
      method: 'GET',
      url: '/ui',
      config,
      handler: async (_request, reply) => reply.redirect('/ui/', 308),
    });
    for (const url of ['/ui/', '/ui/*'])
      scope.route({ method: 'GET', url, config, handler: serve });
  });
}
