import { CustosError } from '@custos/core/errors';
import { ok } from '../../http/envelope.js';
import { isListRequest } from '../../http/route-access.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { TokenStore } from '../token-store.js';

/**
 * `LIST auth/token/accessors` (sudo, as Vault's root-protected path): the accessor of every
 * stored token. Batch tokens have none.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [tokenAccessorPaths({ tokens })]);
 * ```
 */
export function tokenAccessorPaths({ tokens }: { readonly tokens: TokenStore }): RouteGroup {
  return {
    name: 'auth/token/accessors',
    routes: [
      route({
        method: 'GET',
        path: '/v1/auth/token/accessors',
        access: { list: true, sudo: true },
        handler: async (request, reply) => {
          if (!isListRequest(request)) throw new CustosError('ERR_NOT_FOUND', 'not found');
          const keys = await tokens.listAccessors();
          if (keys.length === 0) throw new CustosError('ERR_NOT_FOUND', 'not found');
          return ok(request, reply, { keys });
        },
      }),
    ],
  };
}
