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
 * answer PUT too (PUT = POST in Vault's API), decided here once for every route group.
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
    if (methods.includes('POST') && !methods.includes('PUT')) methods.push('PUT');
    route.method = methods;
    for (const method of methods)
      routeTable.push({ method, url: route.url, access: route.config?.access ?? {} });
  });
}
