import { CustosError } from '@custos/core/errors';
import { ok } from '../../http/envelope.js';
import { field } from '../../http/field-schema.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { TransitPathDeps } from './deps.js';

/**
 * `transit/keys/:name/usage`: the key's usage log, newest first (`?limit=`, at most 10 000).
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [keysUsagePaths({ transitOf })]);
 * ```
 */
export function keysUsagePaths({ transitOf }: Pick<TransitPathDeps, 'transitOf'>): RouteGroup {
  return {
    name: 'transit/keys/usage',
    routes: [
      route({
        method: 'GET',
        path: '/v1/:mount/keys/:name/usage',
        fields: { limit: field.int({ default: 100 }) },
        handler: async (request, reply, { limit }) => {
          const { transit, usage } = transitOf(request);
          const { name } = request.params;
          if (!(await transit.exists(name))) throw new CustosError('ERR_NOT_FOUND', 'not found');
          return ok(request, reply, { usage: await usage.read(name, Math.min(limit, 10_000)) });
        },
      }),
    ],
  };
}
