import { CustosError } from '@custos/core/errors';
import type { FastifyRequest } from 'fastify';
import { bodyOf } from '../../http/body-parser.js';
import { ok } from '../../http/envelope.js';
import { type FieldValues, field } from '../../http/field-schema.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { type CreateContext, creationInput, unknownRole } from '../token-create-rules.js';
import { authBlock } from '../token-response.js';
import type { TokenRoles } from '../token-role-store.js';
import { validateTokenRoleName } from '../token-role-store.js';
import type { TokenStore } from '../token-store.js';
import { caller } from './caller.js';

const CREATE_FIELDS = {
  policies: field.commaList(),
  no_default_policy: field.bool({ strict: true, default: false }),
  no_parent: field.bool({ strict: true, default: false }),
  ttl: field.duration(),
  explicit_max_ttl: field.duration(),
  period: field.duration(),
  renewable: field.bool({ strict: true, default: true }),
  num_uses: field.int({ strict: true, default: 0 }),
  meta: field.map(),
  type: field.string(),
} as const;

/** Token role names have one spelling (lower case): another is refused before the ACL. */
const names = { role_name: validateTokenRoleName };

/**
 * `auth/token/create` (a child of the caller's token, or an orphan with sudo),
 * `auth/token/create-orphan` (an orphan; sudo) and `auth/token/create/:role_name` (through a
 * token role). Policies: a subset of the caller's unless the caller is root or has sudo on the
 * path, or the role allows them (see `token-create-rules.ts`).
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [tokenCreatePaths({ tokens, tokenRoles })]);
 * ```
 */
export function tokenCreatePaths({
  tokens,
  tokenRoles,
}: {
  readonly tokens: TokenStore;
  readonly tokenRoles: TokenRoles;
}): RouteGroup {
  const issue = async (
    request: FastifyRequest,
    fields: FieldValues<typeof CREATE_FIELDS>,
    context: Omit<CreateContext, 'parent' | 'sudo'>,
  ) => {
    // Kept by hand: `id` is refused whatever its type without root (null is no id), and is text
    // or refused with root; a display_name that is not text is ignored (as Vault);
    // `entity_alias` needs identity, which custos lacks.
    const body = bodyOf(request);
    if (body.entity_alias !== undefined)
      throw new CustosError('ERR_INVALID_REQUEST', 'entity_alias is not supported (no identity)');
    const parent = caller(request);
    if (body.id !== undefined && body.id !== null && typeof body.id !== 'string') {
      if (!parent.policies.includes('root'))
        throw new CustosError('ERR_PERMISSION_DENIED', 'only root tokens may choose a token id');
      throw new CustosError('ERR_INVALID_REQUEST', 'id must be a string');
    }
    const sudo = request.custos.acl?.allows(request.custos.path, 'sudo') === true;
    const input = creationInput(
      {
        policies: fields.policies,
        noDefaultPolicy: fields.no_default_policy,
        noParent: fields.no_parent,
        ttl: fields.ttl,
        explicitMaxTtl: fields.explicit_max_ttl,
        period: fields.period,
        renewable: fields.renewable,
        numUses: fields.num_uses,
        meta: fields.meta,
        type: fields.type ?? '',
        displayName: typeof body.display_name === 'string' ? body.display_name : undefined,
        // An empty id asks for none (as Vault): a generated token.
        id: typeof body.id === 'string' && body.id !== '' ? body.id : undefined,
      },
      { ...context, parent, sudo },
    );
    const { token, entry } = await tokens.create(input);
    return { auth: authBlock(token, entry, tokens.now()) };
  };
  return {
    name: 'auth/token/create',
    routes: [
      route({
        method: 'POST',
        path: '/v1/auth/token/create',
        fields: CREATE_FIELDS,
        handler: async (request, reply, fields) =>
          ok(request, reply, null, await issue(request, fields, { orphanRoute: false })),
      }),
      route({
        method: 'POST',
        path: '/v1/auth/token/create-orphan',
        fields: CREATE_FIELDS,
        handler: async (request, reply, fields) =>
          ok(request, reply, null, await issue(request, fields, { orphanRoute: true })),
      }),
      route({
        method: 'POST',
        path: '/v1/auth/token/create/:role_name',
        access: { names },
        fields: CREATE_FIELDS,
        handler: async (request, reply, fields) => {
          const name = request.params.role_name;
          const settings = await tokenRoles.get(name);
          if (settings === undefined) throw unknownRole();
          return ok(
            request,
            reply,
            null,
            await issue(request, fields, { orphanRoute: false, role: { name, settings } }),
          );
        },
      }),
    ],
  };
}
