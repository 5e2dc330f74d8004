import { CustosError } from '@custos/core/errors';
import { bodyOf } from '../../http/body-parser.js';
import { noContent, ok } from '../../http/envelope.js';
import { boolField, durationField, intField, stringList } from '../../http/fields.js';
import { type DeclaredRoute, type RouteGroup, route } from '../../http/route-spec.js';
import type { ApproleRole, ApprolesOf } from '../approle-store.js';
import { MAX_TOKEN_TTL_SECONDS } from '../token-store.js';

/** How one role setting is read from a request body. */
type Reader = (value: unknown, name: string) => ApproleRole[keyof ApproleRole];

const list: Reader = (value, name) => stringList(value, name).filter((s) => s !== '');
const seconds: Reader = (value, name) =>
  Math.min(durationField(value, name), MAX_TOKEN_TTL_SECONDS);
const count: Reader = (value, name) => intField(value, name);
const flag: Reader = (value, name) => boolField(value, name);

/**
 * Vault's per-field role routes: `role/:name/<route>` reads, sets (`{<field>: value}`) or resets
 * (DELETE) one setting. `policies` answers both `policies` and `token_policies`.
 */
export const ROLE_FIELD_ROUTES: readonly {
  readonly route: string;
  readonly field: keyof ApproleRole;
  readonly read: Reader;
  readonly reset: ApproleRole[keyof ApproleRole];
}[] = [
  { route: 'policies', field: 'token_policies', read: list, reset: [] },
  { route: 'secret-id-num-uses', field: 'secret_id_num_uses', read: count, reset: 0 },
  { route: 'secret-id-ttl', field: 'secret_id_ttl', read: seconds, reset: 0 },
  { route: 'token-ttl', field: 'token_ttl', read: seconds, reset: 0 },
  { route: 'token-max-ttl', field: 'token_max_ttl', read: seconds, reset: 0 },
  { route: 'token-num-uses', field: 'token_num_uses', read: count, reset: 0 },
  { route: 'bind-secret-id', field: 'bind_secret_id', read: flag, reset: true },
  { route: 'secret-id-bound-cidrs', field: 'secret_id_bound_cidrs', read: list, reset: [] },
  { route: 'token-bound-cidrs', field: 'token_bound_cidrs', read: list, reset: [] },
  { route: 'period', field: 'token_period', read: seconds, reset: 0 },
];

/**
 * `auth/approle/role/:name/<setting>` for each of {@link ROLE_FIELD_ROUTES}: GET, POST, DELETE.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [approleRoleFieldPaths({ approles })]);
 * ```
 */
export function approleRoleFieldPaths({ approles }: { readonly approles: ApprolesOf }): RouteGroup {
  const routes: DeclaredRoute[] = [];
  for (const setting of ROLE_FIELD_ROUTES) {
    const path = `/v1/auth/:mount/role/:name/${setting.route}` as const;
    const answerOf = (role: ApproleRole) =>
      setting.route === 'policies'
        ? { policies: role.token_policies, token_policies: role.token_policies }
        : setting.route === 'period'
          ? { period: role.token_period, token_period: role.token_period }
          : { [setting.field]: role[setting.field] };
    routes.push(
      route({
        method: 'GET',
        path,
        handler: async (request, reply) => {
          const role = await approles(request).getRole(request.params.name);
          if (role === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
          return ok(request, reply, answerOf(role));
        },
      }),
      route({
        method: 'POST',
        path,
        handler: async (request, reply) => {
          // Kept by hand: the field's name depends on the route (and `policies` and `period`
          // take Vault's other name too).
          const body = bodyOf(request);
          const alias =
            setting.route === 'policies' ? 'policies' : setting.route === 'period' ? 'period' : '';
          const name = body[setting.field] !== undefined ? setting.field : alias;
          if (name === '' || body[name] === undefined)
            throw new CustosError('ERR_INVALID_REQUEST', `missing ${setting.field}`);
          await approles(request).updateRole(request.params.name, {
            [setting.field]: setting.read(body[name], name),
          });
          return noContent(reply);
        },
      }),
      route({
        method: 'DELETE',
        path,
        handler: async (request, reply) => {
          await approles(request).updateRole(request.params.name, {
            [setting.field]: setting.reset,
          });
          return noContent(reply);
        },
      }),
    );
  }
  return { name: 'auth/approle/role-fields', routes };
}
