import { CustosError } from '@custos/core/errors';
import { bodyOf } from '../../http/body-parser.js';
import { ok } from '../../http/envelope.js';
import { boolOr, durationField, intField, stringList, stringMap } from '../../http/fields.js';
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
        handler: async (request, reply) => {
          const body = bodyOf(request);
          const parent = caller(request);
          const isRootParent = parent.policies.includes('root');
          const requested = stringList(body.policies, 'policies');
          let policies = requested.length > 0 ? requested : parent.policies;
          if (!isRootParent && !policies.every((p) => parent.policies.includes(p))) {
            throw new CustosError(
              'ERR_INVALID_REQUEST',
              "child policies must be a subset of the parent's policies",
            );
          }
          if (
            !boolOr(body.no_default_policy, 'no_default_policy', false) &&
            !policies.includes('root')
          ) {
            policies = [...new Set([...policies, 'default'])];
          }
          const orphan = boolOr(body.no_parent, 'no_parent', false);
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
            ...(body.ttl === undefined ? {} : { ttlSeconds: durationField(body.ttl, 'ttl') }),
            ...(body.explicit_max_ttl === undefined
              ? {}
              : {
                  explicitMaxTtlSeconds: durationField(body.explicit_max_ttl, 'explicit_max_ttl'),
                }),
            renewable: boolOr(body.renewable, 'renewable', true),
            numUses: body.num_uses === undefined ? 0 : intField(body.num_uses, 'num_uses'),
            displayName:
              typeof body.display_name === 'string' ? `token-${body.display_name}` : 'token',
            meta: stringMap(body.meta, 'meta'),
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
