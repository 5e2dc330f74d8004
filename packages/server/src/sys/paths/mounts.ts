import { PermissionDenied } from '@custos/core/errors';
import { ok } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { describeMount, MOUNTS, mountOf } from '../mounts.js';

/**
 * `sys/mounts`, `sys/auth` (the auth methods) and the UI mount lookup the `vault kv` CLI uses (`sys/internal/ui/mounts/*`).
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [mountsPaths()]);
 * ```
 */
export function mountsPaths(): RouteGroup {
  return {
    name: 'sys/mounts',
    routes: [
      route({
        method: 'GET',
        path: '/v1/sys/mounts',
        handler: async (request, reply) => {
          const data = Object.fromEntries(
            MOUNTS.filter((m) => !m.path.startsWith('auth/')).map((m) => [
              m.path,
              describeMount(m),
            ]),
          );
          return ok(request, reply, data);
        },
      }),
      // The auth methods, as `vault auth list` reads them: keyed by their path under `auth/`.
      route({
        method: 'GET',
        path: '/v1/sys/auth',
        handler: async (request, reply) => {
          const data = Object.fromEntries(
            MOUNTS.filter((m) => m.path.startsWith('auth/')).map((m) => [
              m.path.slice('auth/'.length),
              describeMount(m),
            ]),
          );
          return ok(request, reply, data);
        },
      }),
      route({
        method: 'GET',
        path: '/v1/sys/internal/ui/mounts/*',
        handler: async (request, reply) => {
          const mount = mountOf(request.params['*']);
          // As Vault: the mount is described only to a token with some capability under it.
          if (
            mount === undefined ||
            mount.path.startsWith('auth/') ||
            mount.path === 'sys/' ||
            request.custos.acl?.reachesUnder(mount.path) !== true
          ) {
            throw new PermissionDenied();
          }
          return ok(request, reply, { ...describeMount(mount), path: mount.path });
        },
      }),
    ],
  };
}
