import { CustosError } from '@custos/core/errors';
import { bodyOf } from '../../http/body-parser.js';
import { noContent, ok } from '../../http/envelope.js';
import { type FieldValues, field } from '../../http/field-schema.js';
import { durationField, stringList } from '../../http/fields.js';
import { isListRequest } from '../../http/route-access.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { ApproleRole, ApprolesOf } from '../approle-store.js';
import { MAX_TOKEN_TTL_SECONDS } from '../token-store.js';

/** A role's settings; an absent one is left as it is (or takes its default on creation). */
const ROLE_FIELDS = {
  token_ttl: field.duration(),
  token_max_ttl: field.duration(),
  token_num_uses: field.int({ strict: true }),
  secret_id_num_uses: field.int({ strict: true }),
  secret_id_ttl: field.duration(),
  bind_secret_id: field.bool({ strict: true }),
  token_type: field.string(),
} as const;

/** Settings custos refuses rather than ignores. */
const REFUSED = [
  'local_secret_ids',
  'token_explicit_max_ttl',
  'token_no_default_policy',
  'bound_cidr_list',
];
const TOKEN_TYPES = ['service', 'batch', 'default'];

function roleInput(
  fields: FieldValues<typeof ROLE_FIELDS>,
  body: Record<string, unknown>,
): Partial<ApproleRole> {
  for (const key of REFUSED)
    if (body[key] !== undefined)
      throw new CustosError('ERR_INVALID_REQUEST', `${key} is not supported on AppRole roles`);
  const input: Partial<ApproleRole> = {};
  // Kept by hand: CIDR lists are set only when given (an absent list leaves the role's), and
  // `period` is the older name of token_period.
  for (const key of ['secret_id_bound_cidrs', 'token_bound_cidrs'] as const) {
    if (body[key] !== undefined) input[key] = stringList(body[key], key).filter((s) => s !== '');
  }
  const period = body.token_period ?? body.period;
  if (period !== undefined)
    input.token_period = Math.min(
      durationField(period, body.token_period !== undefined ? 'token_period' : 'period'),
      MAX_TOKEN_TTL_SECONDS,
    );
  if (fields.token_type !== undefined) {
    if (!TOKEN_TYPES.includes(fields.token_type))
      throw new CustosError('ERR_INVALID_REQUEST', 'token_type must be service, batch or default');
    input.token_type = fields.token_type as ApproleRole['token_type'];
  }
  // Kept by hand: `policies` is the older name of token_policies, read only without it.
  if (body.token_policies !== undefined || body.policies !== undefined) {
    input.token_policies = stringList(body.token_policies ?? body.policies, 'token_policies');
  }
  if (fields.token_ttl !== undefined) input.token_ttl = fields.token_ttl;
  if (fields.token_max_ttl !== undefined) input.token_max_ttl = fields.token_max_ttl;
  if (fields.token_num_uses !== undefined) input.token_num_uses = fields.token_num_uses;
  if (fields.secret_id_num_uses !== undefined) input.secret_id_num_uses = fields.secret_id_num_uses;
  if (fields.secret_id_ttl !== undefined) input.secret_id_ttl = fields.secret_id_ttl;
  if (fields.bind_secret_id !== undefined) input.bind_secret_id = fields.bind_secret_id;
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
export function approleRolePaths({ approles }: { readonly approles: ApprolesOf }): RouteGroup {
  return {
    name: 'auth/approle/role',
    routes: [
      route({
        method: 'GET',
        path: '/v1/auth/:mount/role',
        access: { list: true },
        handler: async (request, reply) => {
          if (!isListRequest(request)) throw new CustosError('ERR_NOT_FOUND', 'not found');
          const keys = await approles(request).listRoles();
          if (keys.length === 0) throw new CustosError('ERR_NOT_FOUND', 'not found');
          return ok(request, reply, { keys });
        },
      }),
      route({
        method: 'POST',
        path: '/v1/auth/:mount/role/:name',
        access: {
          exists: async (request) =>
            (await approles(request).getRole(request.params.name)) !== undefined,
        },
        fields: ROLE_FIELDS,
        handler: async (request, reply, fields) => {
          await approles(request).putRole(request.params.name, roleInput(fields, bodyOf(request)));
          return noContent(reply);
        },
      }),
      route({
        method: 'GET',
        path: '/v1/auth/:mount/role/:name',
        handler: async (request, reply) => {
          const role = await approles(request).getRole(request.params.name);
          if (role === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
          const { role_id: _hidden, ...settings } = role;
          return ok(request, reply, { ...settings, policies: role.token_policies });
        },
      }),
      route({
        method: 'DELETE',
        path: '/v1/auth/:mount/role/:name',
        handler: async (request, reply) => {
          await approles(request).deleteRole(request.params.name);
          return noContent(reply);
        },
      }),
    ],
  };
}
