import { CustosError } from '@custos/core/errors';
import { assertSameCreation } from '@custos/core/internal/transit';
import { bodyOf } from '../../http/body-parser.js';
import { noContent, ok } from '../../http/envelope.js';
import { isListRequest } from '../../http/route-access.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { TransitPathDeps } from './deps.js';
import { describedKey } from './describe.js';
import { CREATE_KEY_FIELDS, createOptions } from './key-options.js';

/**
 * `transit/keys` (LIST) and `transit/keys/:name`: create, read, delete.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [keysPaths({ transitOf })]);
 * ```
 */
export function keysPaths({ transitOf }: Pick<TransitPathDeps, 'transitOf'>): RouteGroup {
  return {
    name: 'transit/keys',
    routes: [
      route({
        method: 'GET',
        path: '/v1/:mount/keys',
        access: { list: true },
        handler: async (request, reply) => {
          const { transit } = transitOf(request);
          if (!isListRequest(request)) throw new CustosError('ERR_NOT_FOUND', 'not found');
          const keys = await transit.list();
          if (keys.length === 0) throw new CustosError('ERR_NOT_FOUND', 'not found');
          return ok(request, reply, { keys });
        },
      }),
      route({
        method: 'POST',
        path: '/v1/:mount/keys/:name',
        access: { exists: (request) => transitOf(request).transit.exists(request.params.name) },
        fields: CREATE_KEY_FIELDS,
        handler: async (request, reply, fields) => {
          const { transit } = transitOf(request);
          const { name } = request.params;
          const options = createOptions(bodyOf(request), fields);
          const created = await transit.createKey(name, options);
          await transitOf(request).settle();
          if (!created) {
            // The key exists: fine if it has what was asked for, an error naming the difference
            // if not (creation never changes a key, and must not hide settings someone else
            // chose).
            const existing = await transit.describe(name);
            if (existing !== undefined) assertSameCreation(existing.policy, options);
          }
          return ok(request, reply, await describedKey(transit, name));
        },
      }),
      route({
        method: 'GET',
        path: '/v1/:mount/keys/:name',
        handler: async (request, reply) =>
          ok(request, reply, await describedKey(transitOf(request).transit, request.params.name)),
      }),
      route({
        method: 'DELETE',
        path: '/v1/:mount/keys/:name',
        handler: async (request, reply) => {
          const { transit, usage } = transitOf(request);
          await transit.deleteKey(request.params.name);
          await usage.forget(request.params.name);
          return noContent(reply);
        },
      }),
    ],
  };
}
