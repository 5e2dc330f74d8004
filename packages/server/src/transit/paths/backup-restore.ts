import { CustosError } from '@custos/core/errors';
import { bodyOf } from '../../http/body-parser.js';
import { noContent, ok } from '../../http/envelope.js';
import { optionalBool } from '../../http/fields.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { TransitPathDeps } from './deps.js';

/**
 * `transit/backup/:name` and `transit/restore[/:name]`.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [backupRestorePaths({ transit })]);
 * ```
 */
export function backupRestorePaths({ transit }: Pick<TransitPathDeps, 'transit'>): RouteGroup {
  return {
    name: 'transit/backup-restore',
    routes: [
      route({
        method: 'GET',
        path: '/v1/transit/backup/:name',
        handler: async (request, reply) =>
          ok(request, reply, { backup: await transit.backup(request.params.name) }),
      }),
      route({
        method: 'POST',
        path: ['/v1/transit/restore', '/v1/transit/restore/:name'],
        handler: async (request, reply) => {
          const body = bodyOf(request);
          const named = body.name;
          if (named !== undefined && typeof named !== 'string')
            throw new CustosError('ERR_INVALID_REQUEST', 'name must be a string');
          // The store checks the name as key creation does ('', 'a/b', '../x' are refused).
          const rename = request.params.name ?? named;
          await transit.restore(body.backup, rename, optionalBool(body.force, 'force') ?? false);
          return noContent(reply);
        },
      }),
    ],
  };
}
