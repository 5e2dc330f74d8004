import { CustosError } from '@custos/core/errors';
import { ok } from '../../http/envelope.js';
import { field } from '../../http/field-schema.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { TransitPathDeps } from './deps.js';
import { describedKey } from './describe.js';

/**
 * `transit/keys/:name/rotate` (a new version) and `…/trim` (versions below a floor go).
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [keysVersionsPaths({ transitOf })]);
 * ```
 */
export function keysVersionsPaths({ transitOf }: Pick<TransitPathDeps, 'transitOf'>): RouteGroup {
  return {
    name: 'transit/keys/versions',
    routes: [
      route({
        method: 'POST',
        path: '/v1/:mount/keys/:name/rotate',
        handler: async (request, reply) => {
          const { transit } = transitOf(request);
          await transit.rotate(request.params.name);
          return ok(request, reply, await describedKey(transit, request.params.name));
        },
      }),
      route({
        method: 'POST',
        path: '/v1/:mount/keys/:name/trim',
        fields: { min_available_version: field.int() },
        handler: async (request, reply, { min_available_version: min }) => {
          const { transit } = transitOf(request);
          if (min === undefined)
            throw new CustosError('ERR_INVALID_REQUEST', "missing 'min_available_version'");
          await transit.trim(request.params.name, min);
          return ok(request, reply, await describedKey(transit, request.params.name));
        },
      }),
    ],
  };
}
