import { CustosError } from '@custos/core/errors';
import { bodyOf } from '../../http/body-parser.js';
import { noContent, ok } from '../../http/envelope.js';
import { boolOr, durationField, intField, stringList } from '../../http/fields.js';
import { isListRequest } from '../../http/route-access.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { ApproleRole, Approles } from '../approle-store.js';

function roleInput(body: Record<string, unknown>): Partial<ApproleRole> {
  const input: Partial<ApproleRole> = {};
  if (body.token_policies !== undefined || body.policies !== undefined) {
    input.token_policies = stringList(body.token_policies ?? body.policies, 'token_policies');
  }
  if (body.token_ttl !== undefined) input.token_ttl = durationField(body.token_ttl, 'token_ttl');
  if (body.token_max_ttl !== undefined)
    input.token_max_ttl = durationField(body.token_max_ttl, 'token_max_ttl');
  if (body.token_num_uses !== undefined)
    input.token_num_uses = intField(body.token_num_uses, 'token_num_uses');
  if (body.secret_id_num_uses !== undefined)
    input.secret_id_num_uses = intField(body.secret_id_num_uses, 'secret_id_num_uses');
  if (body.secret_id_ttl !== undefined)
    input.secret_id_ttl = durationField(body.secret_id_ttl, 'secret_id_ttl');
  if (body.bind_secret_id !== undefined)
    input.bind_secret_id = boolOr(body.bind_secret_id, 'bind_secret_id', true);
  return input;
}

/**
 * `auth/approle/role` (LIST) and `auth/approle/role/:name`: create, update, read, delete.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [approleRolePaths({ approles })]);
 * ```
 */
export function approleRolePaths({ approles }: { readonly approles: Approles }): RouteGroup {
  return {
    name: 'auth/approle/role',
    routes: [
      route({
        method: 'GET',
        path: '/v1/auth/approle/role',
        access: { list: true },
        handler: async (request, reply) => {
          if (!isListRequest(request)) throw new CustosError('ERR_NOT_FOUND', 'not found');
          const keys = await approles.listRoles();
          if (keys.length === 0) throw new CustosError('ERR_NOT_FOUND', 'not found');
          return ok(request, reply, { keys });
        },
      }),
      route({
        method: 'POST',
        path: '/v1/auth/approle/role/:name',
        access: {
          exists: async (request) => (await approles.getRole(request.params.name)) !== undefined,
        },
        handler: async (request, reply) => {
          await approles.putRole(request.params.name, roleInput(bodyOf(request)));
          return noContent(reply);
        },
      }),
      route({
        method: 'GET',
        path: '/v1/auth/approle/role/:name',
        handler: async (request, reply) => {
          const role = await approles.getRole(request.params.name);
          if (role === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
          const { role_id: _hidden, ...settings } = role;
          return ok(request, reply, { ...settings, policies: role.token_policies });
        },
      }),
      route({
        method: 'DELETE',
        path: '/v1/auth/approle/role/:name',
        handler: async (request, reply) => {
          await approles.deleteRole(request.params.name);
          return noContent(reply);
        },
      }),
    ],
  };
}
