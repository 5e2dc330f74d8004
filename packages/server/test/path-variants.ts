/**
 * For the tests that attack the path: spellings of a request path that a router, a proxy or a
 * client may read differently, the path the router really serves for each, and a client that sends
 * a request target byte for byte (`fetch` drops `#…` and resolves dot segments before sending).
 */
import { request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import type { RouteEntry } from '../src/http/route-table.js';
import { ROUTER_OPTIONS } from '../src/http/router-options.js';

/** One spelling of a path: what it tries, and the request target (from `/`) to send. */
export interface PathVariant {
  readonly label: string;
  readonly target: string;
}

const encodeChar = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * Spellings of the API path `path` (no `/v1/`): suffixes and infixes a router may strip or cut
 * at (`#`, `;`), encodings it may decode (`%23`, `%2F`, `%00`, a letter), dot segments, double
 * and trailing slashes, a trailing dot, case changes (mount paths, KV keys and transit key names
 * are case-sensitive: another case is another name), Unicode letters that case folding maps
 * onto ASCII ones (`ſ`, the Kelvin sign) and the absolute form.
 *
 * @example
 * ```ts
 * pathVariants('sys/seal').find((v) => v.label === 'fragment')?.target; // '/v1/sys/seal#'
 * ```
 */
export function pathVariants(path: string): PathVariant[] {
  const cut = path.lastIndexOf('/');
  const head = path.slice(0, cut);
  const tail = path.slice(cut + 1);
  const first = path.indexOf('/');
  const v = (label: string, apiPath: string): PathVariant => ({ label, target: `/v1/${apiPath}` });
  return [
    v('fragment', `${path}#`),
    v('fragment with text', `${path}#x`),
    v('fragment with a path', `${path}#/more`),
    v('fragment before the last segment', `${head}#/${tail}`),
    v('fragment before a query', `${path}#?list=true`),
    v('semicolon', `${path};`),
    v('semicolon parameter', `${path};jsessionid=1`),
    v('semicolon before the last segment', `${head};/${tail}`),
    v('encoded #', `${path}%23`),
    v('encoded # before the last segment', `${head}%23/${tail}`),
    v('encoded NUL', `${path}%00`),
    v('encoded slash', `${head}%2F${tail}`),
    v('encoded ?', `${path}%3F`),
    v('encoded ;', `${path}%3B`),
    v('encoded dot', `${path}%2e`),
    v('encoded space', `${path}%20`),
    v('encoded letter', `${head}/${encodeChar(tail[0] as string)}${tail.slice(1)}`),
    v('encoded first segment', `${encodeChar(path[0] as string)}${path.slice(1)}`),
    v('dot segment', `${head}/./${tail}`),
    v('dot-dot segment', `${head}/x/../${tail}`),
    v('encoded dot-dot segment', `${head}/x/%2e%2e/${tail}`),
    v('trailing dot', `${path}.`),
    v('trailing slash', `${path}/`),
    v('double slash', `${head}//${tail}`),
    v('double slash after /v1', `/${path}`),
    v('backslash', `${head}\\${tail}`),
    v('upper case', path.toUpperCase()),
    v('upper-case last segment', `${head}/${tail.toUpperCase()}`),
    v('capitalised mount', `${path.slice(0, 1).toUpperCase()}${path.slice(1)}`),
    v(
      'capitalised second segment',
      `${path.slice(0, first + 1)}${path.slice(first + 1).replace(/^./, (c) => c.toUpperCase())}`,
    ),
    v('lower case', path.toLowerCase()),
    v(
      'encoded upper-case first letter',
      `${encodeChar((path[0] as string).toUpperCase())}${path.slice(1)}`,
    ),
    v(
      'encoded lower-case first letter',
      `${encodeChar((path[0] as string).toLowerCase())}${path.slice(1)}`,
    ),
    // Letters outside ASCII that a Unicode case folding maps onto ASCII ones: a router, a proxy or
    // a database collation that folds case would read them as `s`, `k`, `i`.
    ...folded(path).map(([label, apiPath]) => v(label, apiPath)),
    { label: 'upper-case /V1', target: `/V1/${path}` },
    { label: 'double slash before v1', target: `//v1/${path}` },
    { label: 'absolute form', target: `http://localhost/v1/${path}` },
  ];
}

/** `path` with its first `s`, `k` or `i` (either case) spelled as a Unicode letter that folds onto it. */
function folded(path: string): [string, string][] {
  const lookalikes: [RegExp, string, string][] = [
    [/s/i, '%C5%BF', 'long s (U+017F, upper case S)'],
    [/k/i, '%E2%84%AA', 'Kelvin sign (U+212A, lower case k)'],
    [/i/i, '%C4%B0', 'dotted capital I (U+0130, lower case i)'],
    [/i/i, '%C4%B1', 'dotless i (U+0131, upper case I)'],
  ];
  return lookalikes
    .filter(([letter]) => letter.test(path))
    .map(([letter, encoded, label]) => [label, path.replace(letter, encoded)]);
}

interface FoundRoute {
  readonly params: Record<string, string | undefined>;
  readonly store: RouteEntry;
}

interface Router {
  on(method: string, url: string, handler: () => void, store: RouteEntry): void;
  find(method: string, url: string): FoundRoute | null;
}

/** What the router makes of a request target. */
export type Served =
  /** No route: nothing is served. */
  | { readonly kind: 'none' }
  /** A `:param` holds a `/`: the path's segments no longer match the route's. */
  | { readonly kind: 'ambiguous'; readonly path: string }
  /** The API path the handler serves (the route's pattern with the router's parameters). */
  | { readonly kind: 'path'; readonly path: string; readonly route: RouteEntry };

/**
 * A router like the server's (Fastify's own find-my-way, the server's options) holding the
 * server's routes, to tell which path a request target is served as.
 *
 * @example
 * ```ts
 * const served = routeOracle(app.routeTable);
 * served('GET', '/v1/secret/data/a#x'); // { kind: 'path', path: 'secret/data/a', … }
 * ```
 */
export function routeOracle(
  table: readonly RouteEntry[],
): (method: string, target: string) => Served {
  const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
  const createRouter = fromFastify('find-my-way') as (options: object) => Router;
  const router = createRouter(ROUTER_OPTIONS);
  const seen = new Set<string>();
  for (const route of table) {
    const key = `${route.method} ${route.url}`;
    if (seen.has(key)) continue;
    seen.add(key);
    router.on(route.method, route.url, () => {}, route);
  }
  return (method, target) => {
    const found = router.find(method, target);
    if (found === null) return { kind: 'none' };
    let ambiguous = false;
    const path = found.store.url
      .replace(/^\/v1\//, '')
      .replace(/:([a-z_]+)|\*/g, (_match, name: string | undefined) => {
        const value = found.params[name ?? '*'] ?? '';
        if (name !== undefined && value.includes('/')) ambiguous = true;
        return value;
      });
    // An empty segment (`/v1//sys/init` matches `/v1/:mount/*` with an empty mount): the
    // server refuses it (400), as it refuses a `/` inside one segment.
    if (path.startsWith('/') || path.includes('//')) ambiguous = true;
    return ambiguous ? { kind: 'ambiguous', path } : { kind: 'path', path, route: found.store };
  };
}

/** A response to {@link sendTarget}. */
export interface RawResponse {
  readonly status: number;
  readonly text: string;
}

/**
 * Sends one request with `target` exactly as given as the request target (Node's client sends
 * the path as is; only bytes HTTP forbids are refused).
 */
export function sendTarget(
  url: string,
  method: string,
  target: string,
  options: { token?: string; body?: unknown } = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers['x-vault-token'] = options.token;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: hostname, port: Number(port), method, path: target, headers, agent: false },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
