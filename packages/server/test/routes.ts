/**
 * Turns the route table's URL patterns into requests, for the tests that walk every route
 * (authorisation, seal, PUT = POST).
 */

import type { RouteEntry } from '../src/http/route-table.js';

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

/** Where the routes declared with `:mount` are walked, by engine. */
export interface WalkedMounts {
  readonly kv: string;
  readonly transit: string;
  /** Under `auth/`. */
  readonly approle: string;
}

/** The mounts the server starts with. */
const STARTING_MOUNTS: WalkedMounts = { kv: 'secret', transit: 'transit', approle: 'approle' };

/**
 * Routes of a mount's engine are declared once with `:mount`: KV's are walked on `secret/`,
 * transit's on `transit/` (each engine's routes answer only under a mount of that engine).
 */
const mountFor = (rest: string, mounts: WalkedMounts) =>
  KV_ROUTES.has(rest.split('/')[0] ?? '') ? mounts.kv : mounts.transit;

/**
 * A concrete API path (without `/v1/`) for a route pattern: `*` becomes `key` (default
 * `some/key`), every `:param` a plausible value, `:mount` the mount of the route's engine in
 * `mounts` (default: those the server starts with).
 *
 * @example
 * ```ts
 * concretePath('/v1/secret/data/*'); // 'secret/data/some/key'
 * ```
 */
export function concretePath(
  url: string,
  key = 'some/key',
  mounts: WalkedMounts = STARTING_MOUNTS,
): string {
  return url
    .replace(/^\/v1\/auth\/:mount\//, `/v1/auth/${mounts.approle}/`)
    .replace(
      /^\/v1\/:mount\/(.*)$/,
      (_match, rest: string) => `/v1/${mountFor(rest, mounts)}/${rest}`,
    )
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

/** One request to a route, and the capability Vault requires for it. */
export interface CapabilityProbe {
  readonly method: string;
  readonly path: string;
  /** The path the ACL is asked about: a list asks about the folder (trailing slash). */
  readonly aclPath: string;
  readonly needs: string;
  readonly hasBody: boolean;
}

/**
 * Every protected route as a request, plus a `LIST` of every GET route that lists. The capability is
 * Vault's rule written out here, not read from the server: GET/HEAD read, LIST list,
 * PATCH patch, DELETE delete, POST/PUT create on a path that does not exist yet where the
 * route checks existence, update otherwise. Paths are unique, so nothing exists yet. Routes
 * declared with `:mount` are probed on `mounts`.
 *
 * @example
 * ```ts
 * capabilityProbes(vaultRoutes(app.routeTable)).filter((p) => p.method === 'LIST');
 * ```
 */
export function capabilityProbes(
  table: readonly RouteEntry[],
  mounts: WalkedMounts = STARTING_MOUNTS,
): CapabilityProbe[] {
  const probes: CapabilityProbe[] = [];
  for (const [i, route] of table.filter((r) => !r.access.unauthenticated).entries()) {
    const path = concretePath(route.url, `probe/${i}`, mounts);
    const write = route.access.exists === undefined ? 'update' : 'create';
    const needs: Record<string, string> = {
      GET: 'read',
      HEAD: 'read',
      POST: write,
      PUT: write,
      PATCH: 'patch',
      DELETE: 'delete',
    };
    probes.push({
      method: route.method,
      path,
      aclPath: path,
      needs: needs[route.method] as string,
      hasBody: !['GET', 'HEAD', 'DELETE'].includes(route.method),
    });
    // A list request reaches only the routes that list (list-operation.test.ts: 405 elsewhere).
    if (route.method === 'GET' && route.access.list === true)
      probes.push({
        method: 'LIST',
        path,
        aclPath: path.endsWith('/') ? path : `${path}/`,
        needs: 'list',
        hasBody: false,
      });
  }
  return probes;
}
