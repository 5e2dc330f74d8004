import { bodyOf } from '../../http/body-parser.js';
import { ok } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { TransitPathDeps } from './deps.js';
import { describedKey } from './describe.js';
import { configChange } from './key-options.js';

/**
 * `transit/keys/:name/config`: the settings that may change after creation.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [keysConfigPaths({ transit })]);
 * ```
 */
export function keysConfigPaths({ transit }: Pick<TransitPathDeps, 'transit'>): RouteGroup {
  return {
    name: 'transit/keys/config',
    routes: [
      route({
        method: 'POST',
        path: '/v1/transit/keys/:name/config',
        handler: async (request, reply) => {
          const change = configChange(bodyOf(request));
          await transit.configure(request.params.name, change);
          return ok(request, reply, await describedKey(transit, request.params.name));
        },
      }),
    ],
  };
}
