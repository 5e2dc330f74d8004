/**
 * Turns the route table's URL patterns into requests, for the tests that walk every route
 * (authorisation, seal, PUT = POST).
 */

/** Values for route parameters that must be valid for the route to be reached at all. */
const PARAMETERS: Record<string, string> = {
  sink: 'file',
  name: 'some-name',
  type: 'plaintext',
  version: '1',
  algorithm: 'sha2-256',
  bytes: '32',
  // An access key id has one spelling (AKCU + 16 of A-Z and 2-7).
  id: 'AKCUABCDEFGHIJ234567',
};

/**
 * The first segments of KV version 2's routes, and the catch-all's `*`: every other
 * `/v1/:mount/…` route is transit's.
 */
const KV_ROUTES = new Set([
  'data',
  'metadata',
  'config',
  'subkeys',
  'delete',
  'undelete',
  'destroy',
  '*',
  '',
]);

/**
 * Routes of a mount's engine are declared once with `:mount`: KV's are walked on `secret/`,
 * transit's on `transit/` (each engine's routes answer only under a mount of that engine).
 */
const mountFor = (rest: string) => (KV_ROUTES.has(rest.split('/')[0] ?? '') ? 'secret' : 'transit');

/**
 * A concrete API path (without `/v1/`) for a route pattern: `*` becomes `key` (default
 * `some/key`), every `:param` a plausible value.
 *
 * @example
 * ```ts
 * concretePath('/v1/secret/data/*'); // 'secret/data/some/key'
 * ```
 */
export function concretePath(url: string, key = 'some/key'): string {
  return url
    .replace(/^\/v1\/auth\/:mount\//, '/v1/auth/approle/')
    .replace(/^\/v1\/:mount\/(.*)$/, (_match, rest: string) => `/v1/${mountFor(rest)}/${rest}`)
    .replace(/^\/v1\//, '')
    .replace('*', key)
    .replace(/:([a-z_]+)/g, (_match, name: string) => PARAMETERS[name] ?? `some-${name}`);
}

/**
 * The routes of the Vault API: every route but the signed Secrets Manager API, which speaks
 * AWS's protocol at its own path and is walked by its own tests, and the dashboard's files at
 * `/ui/` (walked by ui/dashboard-routes.test.ts).
 *
 * @example
 * ```ts
 * vaultRoutes(app.routeTable).filter((r) => r.method === 'POST');
 * ```
 */
export function vaultRoutes<
  R extends { readonly access: { readonly signed?: unknown; readonly asset?: boolean } },
>(table: readonly R[]): R[] {
  return table.filter((r) => r.access.signed === undefined && r.access.asset !== true);
}
