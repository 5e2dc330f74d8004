import { CustosError } from '@custos/core/errors';
import { bodyOf } from '../../http/body-parser.js';
import { ok } from '../../http/envelope.js';
import { field } from '../../http/field-schema.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { authBlock } from '../token-response.js';
import type { TokenStore } from '../token-store.js';
import { caller } from './caller.js';

/**
 * `auth/token/create`: a child of the caller's token (or an orphan, with sudo), with at most
 * the caller's policies unless the caller is root.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [tokenCreatePaths({ tokens })]);
 * ```
 */
export function tokenCreatePaths({ tokens }: { readonly tokens: TokenStore }): RouteGroup {
  return {
    name: 'auth/token/create',
    routes: [
      route({
        method: 'POST',
        path: '/v1/auth/token/create',
        fields: {
          policies: field.commaList(),
          no_default_policy: field.bool({ strict: true, default: false }),
          no_parent: field.bool({ strict: true, default: false }),
          ttl: field.duration(),
          explicit_max_ttl: field.duration(),
          renewable: field.bool({ strict: true, default: true }),
          num_uses: field.int({ strict: true, default: 0 }),
          meta: field.map(),
        },
        handler: async (request, reply, fields) => {
          // Kept by hand: `id` and `period` are refused whatever their type, and a display_name
          // that is not text is ignored, as Vault does.
          const body = bodyOf(request);
          const parent = caller(request);
          const isRootParent = parent.policies.includes('root');
          const requested = fields.policies;
          let policies = requested.length > 0 ? requested : parent.policies;
          if (!isRootParent && !policies.every((p) => parent.policies.includes(p))) {
            throw new CustosError(
              'ERR_INVALID_REQUEST',
              "child policies must be a subset of the parent's policies",
            );
          }
          if (!fields.no_default_policy && !policies.includes('root')) {
            policies = [...new Set([...policies, 'default'])];
          }
          const orphan = fields.no_parent;
          if (orphan && !request.custos.acl?.allows('auth/token/create', 'sudo')) {
            throw new CustosError(
              'ERR_PERMISSION_DENIED',
              'creating orphan tokens needs sudo on auth/token/create',
            );
          }
          if (body.id !== undefined && !isRootParent) {
            throw new CustosError(
              'ERR_PERMISSION_DENIED',
              'only root tokens may choose a token id',
            );
          }
          if (body.period !== undefined)
            throw new CustosError('ERR_INVALID_REQUEST', 'periodic tokens are not supported');
          const { token, entry } = await tokens.create({
            policies,
            ...(fields.ttl === undefined ? {} : { ttlSeconds: fields.ttl }),
            ...(fields.explicit_max_ttl === undefined
              ? {}
              : { explicitMaxTtlSeconds: fields.explicit_max_ttl }),
            renewable: fields.renewable,
            numUses: fields.num_uses,
            displayName:
              typeof body.display_name === 'string' ? `token-${body.display_name}` : 'token',
            meta: fields.meta,
            parent,
            orphan,
            path: 'auth/token/create',
            ...(typeof body.id === 'string' ? { id: body.id } : {}),
          });
          return ok(request, reply, null, { auth: authBlock(token, entry, tokens.now()) });
        },
      }),
    ],
  };
}
