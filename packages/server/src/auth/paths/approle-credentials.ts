import { CustosError } from '@custos/core/errors';
import { bodyOf } from '../../http/body-parser.js';
import { noContent, ok } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { ApprolesOf } from '../approle-store.js';

/**
 * `auth/approle/role/:name/role-id` (read, or set one of 8 to 256 characters). Secret IDs are
 * served by `approle-secret-ids.ts`.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [approleCredentialsPaths({ approles })]);
 * ```
 */
export function approleCredentialsPaths({
  approles,
}: {
  readonly approles: ApprolesOf;
}): RouteGroup {
  return {
    name: 'auth/approle/credentials',
    routes: [
      route({
        method: 'GET',
        path: '/v1/auth/:mount/role/:name/role-id',
        handler: async (request, reply) => {
          const role = await approles(request).getRole(request.params.name);
          if (role === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
          return ok(request, reply, { role_id: role.role_id });
        },
      }),
      route({
        method: 'POST',
        path: '/v1/auth/:mount/role/:name/role-id',
        handler: async (request, reply) => {
          // Kept by hand: one refusal for every role_id that is not 8 to 256 characters of text.
          const roleId = bodyOf(request).role_id;
          if (typeof roleId !== 'string' || roleId.length < 8 || roleId.length > 256) {
            throw new CustosError(
              'ERR_INVALID_REQUEST',
              'role_id must be a string of 8 to 256 characters',
            );
          }
          if ((await approles(request).getRole(request.params.name)) === undefined) {
            throw new CustosError('ERR_NOT_FOUND', 'not found');
          }
          await approles(request).putRole(request.params.name, { role_id: roleId });
          return noContent(reply);
        },
      }),
    ],
  };
}
