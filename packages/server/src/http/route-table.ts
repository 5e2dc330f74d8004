import type { FastifyInstance } from 'fastify';
import type { RouteAccess } from './route-access.js';

/** One route as registered: method, URL pattern and how it is protected. */
export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly access: RouteAccess;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every API route, for the docs check and the authorisation tests. */
    routeTable: RouteEntry[];
  }
}

/**
 * Records every route registered from here on in `app.routeTable`, and makes every POST route
 * answer PUT too (PUT = POST in Vault's API), decided here once for every route group. Signed
 * routes (the Secrets Manager API) answer only what they declare.
 *
 * @example
 * ```ts
 * collectRouteTable(app);
 * registerRouteGroups(app, groups);
 * ```
 */
export function collectRouteTable(app: FastifyInstance): void {
  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? [...route.method] : [route.method];
    // A signed route speaks another protocol (AWS's JSON API: POST only).
    const signed = route.config?.access?.signed !== undefined;
    if (methods.includes('POST') && !methods.includes('PUT') && !signed) methods.push('PUT');
    route.method = methods;
    for (const method of methods)
      routeTable.push({ method, url: route.url, access: route.config?.access ?? {} });
  });
}
