import { lowerCaseMountPath } from '../sys/mount-path.js';
import type { MountEngine, MountEntry } from '../sys/mount-table.js';
import { engineOf } from '../sys/mount-table.js';
import type { DeclaredRoute, RouteGroup } from './route-spec.js';

/**
 * Routes a group by mount: each of its routes is declared once with a `:mount` parameter
 * (`/v1/:mount/data/*`) and serves every mount of `engine`. The boundary finds the mount the
 * request names in the current mount table (`RouteAccess.mount`); a request the router matched
 * to this group but whose mount another engine serves (a KV version 1 key `data/x`, a path of
 * no mount) is admitted and served by `catchAll`, the `/v1/:mount/*` route, instead. The policy
 * path stays the request's path, so a policy on `kv1/*` governs the mount at `kv1/`.
 *
 * @example
 * ```ts
 * const catchAll = mountCatchAllRoute(deps);
 * registerRouteGroups(app, [mountedGroup('kv-2', kvDataPaths(kvOf), catchAll)]);
 * ```
 */
export function mountedGroup(
  engine: MountEngine,
  group: RouteGroup,
  catchAll: DeclaredRoute,
): RouteGroup {
  const serves = (mount: MountEntry | undefined) =>
    mount !== undefined && engineOf(mount) === engine;
  return {
    ...group,
    routes: group.routes.map(
      (declared): DeclaredRoute => ({
        ...declared,
        access: {
          ...declared.access,
          // A mount path has one spelling (lower case): another is refused before the ACL.
          names: { ...declared.access?.names, mount: lowerCaseMountPath },
          mount: {
            under: engine === 'approle' ? 'auth/' : '',
            serves,
            fallback: catchAll.access ?? {},
          },
        },
        handler: (request, reply) =>
          request.custos.fallback === true
            ? catchAll.handler(request, reply)
            : declared.handler(request, reply),
      }),
    ),
  };
}

/**
 * The mount a request routed by mount was admitted for (the boundary found it).
 *
 * @example
 * ```ts
 * const kv = kvOf(mountOfRequest(request));
 * ```
 */
export function mountOfRequest(request: {
  custos: { mount?: MountEntry | undefined };
}): MountEntry {
  const mount = request.custos.mount;
  if (mount === undefined) throw new Error('a route routed by mount ran without its mount');
  return mount;
}
