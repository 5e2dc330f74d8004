import { CustosError } from '@custos/core/errors';
import { bodyOf } from '../../http/body-parser.js';
import { ok } from '../../http/envelope.js';
import { stringList } from '../../http/fields.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { setOwn } from '../../lib/own-property.js';

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
          const body = bodyOf(request);
          const paths = stringList(body.paths ?? body.path, 'paths');
          if (paths.length === 0) throw new CustosError('ERR_INVALID_REQUEST', "missing 'paths'");
          const acl = request.custos.acl;
          const data: Record<string, string[]> = {};
          for (const path of paths) {
            const caps = acl?.isRoot ? ['root'] : [...(acl?.capabilities(path) ?? [])].sort();
            setOwn(data, path, caps.length > 0 ? caps : ['deny']);
          }
          return ok(request, reply, { ...data, capabilities: data[paths[0] as string] });
        },
      }),
    ],
  };
}
