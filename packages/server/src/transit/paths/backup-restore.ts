import { bodyOf } from '../../http/body-parser.js';
import { noContent, ok } from '../../http/envelope.js';
import { field } from '../../http/field-schema.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { TransitPathDeps } from './deps.js';

/**
 * `transit/backup/:name` and `transit/restore[/:name]`.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [backupRestorePaths({ transitOf })]);
 * ```
 */
export function backupRestorePaths({ transitOf }: Pick<TransitPathDeps, 'transitOf'>): RouteGroup {
  return {
    name: 'transit/backup-restore',
    routes: [
      route({
        method: 'GET',
        path: '/v1/:mount/backup/:name',
        handler: async (request, reply) =>
          ok(request, reply, {
            backup: await transitOf(request).transit.backup(request.params.name),
          }),
      }),
      route({
        method: 'POST',
        path: ['/v1/:mount/restore', '/v1/:mount/restore/:name'],
        fields: { name: field.string(), force: field.bool({ default: false }) },
        handler: async (request, reply, { name, force }) => {
          const { transit } = transitOf(request);
          // The backup is judged whole by the store (its refusals name the part that is wrong).
          const { backup } = bodyOf(request);
          // The store checks the name as key creation does ('', 'a/b', '../x' are refused).
          await transit.restore(backup, request.params.name ?? name, force);
          await transitOf(request).settle();
          return noContent(reply);
        },
      }),
    ],
  };
}
