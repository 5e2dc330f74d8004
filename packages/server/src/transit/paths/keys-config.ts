import { bodyOf } from '../../http/body-parser.js';
import { ok } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { TransitPathDeps } from './deps.js';
import { describedKey } from './describe.js';
import { configChange, KEY_CONFIG_FIELDS } from './key-options.js';

/**
 * `transit/keys/:name/config`: the settings that may change after creation.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [keysConfigPaths({ transitOf })]);
 * ```
 */
export function keysConfigPaths({ transitOf }: Pick<TransitPathDeps, 'transitOf'>): RouteGroup {
  return {
    name: 'transit/keys/config',
    routes: [
      route({
        method: 'POST',
        path: '/v1/:mount/keys/:name/config',
        fields: KEY_CONFIG_FIELDS,
        handler: async (request, reply, fields) => {
          const { transit } = transitOf(request);
          await transit.configure(request.params.name, configChange(fields, bodyOf(request)));
          return ok(request, reply, await describedKey(transit, request.params.name));
        },
      }),
    ],
  };
}
