import { CustosError } from '@custos/core/errors';
import { EXPORT_TYPES, type ExportType, exportKeyMaterial } from '@custos/core/internal/transit';
import { ok } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { TransitPathDeps } from './deps.js';

/**
 * `transit/export/:type/:name[/:version]`: key material of an exportable key.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [exportPaths({ transitOf })]);
 * ```
 */
export function exportPaths({ transitOf }: Pick<TransitPathDeps, 'transitOf'>): RouteGroup {
  return {
    name: 'transit/export',
    routes: [
      route({
        method: 'GET',
        path: ['/v1/:mount/export/:type/:name', '/v1/:mount/export/:type/:name/:version'],
        handler: async (request, reply) => {
          const { transit } = transitOf(request);
          const { type, name, version } = request.params;
          if (!(EXPORT_TYPES as readonly string[]).includes(type))
            throw new CustosError(
              'ERR_INVALID_REQUEST',
              `invalid export type; use ${EXPORT_TYPES.join(', ')}`,
            );
          const found = await transit.describe(name);
          if (found === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
          // The lifecycle, the flags, then only versions that still decrypt (see
          // exportKeyMaterial).
          const keys = exportKeyMaterial(
            found.policy,
            found.versions,
            type as ExportType,
            version,
            transit.now().getTime(),
          );
          return ok(request, reply, { name, type: found.policy.type, keys });
        },
      }),
    ],
  };
}
