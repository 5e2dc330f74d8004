import { bodyOf } from '../../http/body-parser.js';
import { ok } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { capabilitiesOn, capabilityPaths } from '../capabilities-on.js';

/**
 * `sys/capabilities-self`: what the caller's token may do on each of the given paths.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [capabilitiesPaths()]);
 * ```
 */
export function capabilitiesPaths(): RouteGroup {
  return {
    name: 'sys/capabilities',
    routes: [
      route({
        method: 'POST',
        path: '/v1/sys/capabilities-self',
        handler: async (request, reply) => {
          const paths = capabilityPaths(bodyOf(request));
          return ok(request, reply, capabilitiesOn(request.custos.acl, paths));
        },
      }),
    ],
  };
}
