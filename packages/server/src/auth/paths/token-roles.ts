import { CustosError } from '@custos/core/errors';
import { bodyOf } from '../../http/body-parser.js';
import { cidrList } from '../../http/client-address.js';
import { noContent, ok } from '../../http/envelope.js';
import { type FieldValues, field } from '../../http/field-schema.js';
import { stringList } from '../../http/fields.js';
import { isListRequest } from '../../http/route-access.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { validatePolicyName } from '../../policy/policy-parse.js';
import {
  ROLE_TOKEN_TYPES,
  type RoleTokenType,
  type TokenRole,
  type TokenRoles,
  validateTokenRoleName,
} from '../token-role-store.js';
import { MAX_TOKEN_TTL_SECONDS } from '../token-store.js';

const ROLE_FIELDS = {
  orphan: field.bool({ strict: true }),
  renewable: field.bool({ strict: true }),
  path_suffix: field.string(),
  token_ttl: field.duration(),
  token_no_default_policy: field.bool({ strict: true }),
  token_type: field.string(),
} as const;

/** Settings custos refuses rather than ignores (it has no identity, no per-token use limit here). */
const REFUSED = ['allowed_entity_aliases', 'token_num_uses', 'token_policies', 'token_max_ttl'];

const names = { name: validateTokenRoleName };

/** A list setting, given as a JSON list or a comma-separated string (as Vault reads them). */
function listSetting(body: Record<string, unknown>, ...keys: string[]): string[] | undefined {
  const key = keys.find((k) => body[k] !== undefined);
  if (key === undefined) return undefined;
  return stringList(body[key], key as string).filter((s) => s !== '');
}

/** A duration setting under its name or its older alias. */
function durationSetting(body: Record<string, unknown>, key: string, alias: string) {
  const name = body[key] !== undefined ? key : alias;
  return body[name] === undefined ? undefined : (field.duration().read(body[name], name) as number);
}

function roleInput(
  fields: FieldValues<typeof ROLE_FIELDS>,
  body: Record<string, unknown>,
): Partial<TokenRole> {
  for (const key of REFUSED)
    if (body[key] !== undefined)
      throw new CustosError('ERR_INVALID_REQUEST', `${key} is not supported on token roles`);
  const input: Partial<TokenRole> = {};
  // Kept by hand: lists and durations have Vault's older names as aliases.
  for (const [key, names] of [
    ['allowed_policies', ['allowed_policies']],
    ['disallowed_policies', ['disallowed_policies']],
    ['allowed_policies_glob', ['allowed_policies_glob']],
    ['disallowed_policies_glob', ['disallowed_policies_glob']],
    ['token_bound_cidrs', ['token_bound_cidrs', 'bound_cidrs']],
  ] as const) {
    const value = listSetting(body, ...names);
    if (value !== undefined) input[key] = value;
  }
  for (const p of [...(input.allowed_policies ?? []), ...(input.disallowed_policies ?? [])])
    validatePolicyName(p);
  if (input.token_bound_cidrs !== undefined) cidrList(input.token_bound_cidrs, 'token_bound_cidrs');
  const period = durationSetting(body, 'token_period', 'period');
  if (period !== undefined) input.token_period = Math.min(period, MAX_TOKEN_TTL_SECONDS);
  const max = durationSetting(body, 'token_explicit_max_ttl', 'explicit_max_ttl');
  if (max !== undefined) input.token_explicit_max_ttl = Math.min(max, MAX_TOKEN_TTL_SECONDS);
  if (fields.token_ttl !== undefined)
    input.token_ttl = Math.min(fields.token_ttl, MAX_TOKEN_TTL_SECONDS);
  if (fields.orphan !== undefined) input.orphan = fields.orphan;
  if (fields.renewable !== undefined) input.renewable = fields.renewable;
  if (fields.path_suffix !== undefined) input.path_suffix = fields.path_suffix;
  if (fields.token_no_default_policy !== undefined)
    input.token_no_default_policy = fields.token_no_default_policy;
  if (fields.token_type !== undefined) {
    if (!(ROLE_TOKEN_TYPES as readonly string[]).includes(fields.token_type))
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        `token_type must be one of ${ROLE_TOKEN_TYPES.join(', ')}`,
      );
    input.token_type = fields.token_type as RoleTokenType;
  }
  return input;
}

/** A role as Vault's `auth/token/roles/:name` reads it. */
const roleView = (name: string, role: TokenRole) => ({
  name,
  ...role,
  period: role.token_period,
  explicit_max_ttl: role.token_explicit_max_ttl,
  bound_cidrs: role.token_bound_cidrs,
  allowed_entity_aliases: null,
});

/**
 * `auth/token/roles` (LIST) and `auth/token/roles/:name` (create, update, read, delete): token
 * roles, which `auth/token/create/:role_name` creates tokens through.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [tokenRolePaths({ tokenRoles })]);
 * ```
 */
export function tokenRolePaths({ tokenRoles }: { readonly tokenRoles: TokenRoles }): RouteGroup {
  return {
    name: 'auth/token/roles',
    routes: [
      route({
        method: 'GET',
        path: '/v1/auth/token/roles',
        access: { list: true },
        handler: async (request, reply) => {
          if (!isListRequest(request)) throw new CustosError('ERR_NOT_FOUND', 'not found');
          const keys = await tokenRoles.list();
          if (keys.length === 0) throw new CustosError('ERR_NOT_FOUND', 'not found');
          return ok(request, reply, { keys });
        },
      }),
      route({
        method: 'POST',
        path: '/v1/auth/token/roles/:name',
        access: {
          names,
          exists: async (request) => (await tokenRoles.get(request.params.name)) !== undefined,
        },
        fields: ROLE_FIELDS,
        handler: async (request, reply, fields) => {
          await tokenRoles.put(request.params.name, roleInput(fields, bodyOf(request)));
          return noContent(reply);
        },
      }),
      route({
        method: 'GET',
        path: '/v1/auth/token/roles/:name',
        access: { names },
        handler: async (request, reply) => {
          const role = await tokenRoles.get(request.params.name);
          if (role === undefined) throw new CustosError('ERR_NOT_FOUND', 'not found');
          return ok(request, reply, roleView(request.params.name, role));
        },
      }),
      route({
        method: 'DELETE',
        path: '/v1/auth/token/roles/:name',
        access: { names },
        handler: async (request, reply) => {
          await tokenRoles.delete(request.params.name);
          return noContent(reply);
        },
      }),
    ],
  };
}
