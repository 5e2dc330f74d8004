/**
 * How the router reads a request path, spelled out rather than left to Fastify's defaults: the
 * boundary refuses any path the router would read differently from the literal request (see
 * api-path.ts), and the tests that walk every route read paths with a router built from these
 * same options.
 *
 * @example
 * ```ts
 * fastify({ routerOptions: { ...ROUTER_OPTIONS } });
 * ```
 */
export const ROUTER_OPTIONS = {
  /** Route parameters up to this length (KV keys, transit names); the path limit is 1024. */
  maxParamLength: 2048,
  caseSensitive: true,
  ignoreTrailingSlash: false,
  ignoreDuplicateSlashes: false,
  /** `;` is an ordinary character, never the start of a query string. */
  useSemicolonDelimiter: false,
} as const;
