import { noContent, ok } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { SealManager } from '../../seal/seal-manager.js';

/**
 * `sys/rotate` (a new barrier key version, sudo) and `sys/key-status`.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [barrierKeyPaths({ seal })]);
 * ```
 */
export function barrierKeyPaths({ seal }: { readonly seal: SealManager }): RouteGroup {
  return {
    name: 'sys/barrier-key',
    routes: [
      route({
        method: 'POST',
        path: '/v1/sys/rotate',
        access: { sudo: true },
        handler: async (_request, reply) => {
          await seal.rotateBarrierKey();
          return noContent(reply);
        },
      }),
      route({
        method: 'GET',
        path: '/v1/sys/key-status',
        handler: async (request, reply) => {
          const info = seal.keyring().info('barrier');
          const primary = info.versions.find((v) => v.version === info.primaryVersion);
          return ok(request, reply, {
            term: info.primaryVersion,
            install_time: primary?.createdAt ?? '',
          });
        },
      }),
    ],
  };
}
