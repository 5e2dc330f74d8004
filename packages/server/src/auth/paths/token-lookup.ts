import { CustosError } from '@custos/core/errors';
import { ok } from '../../http/envelope.js';
import { field } from '../../http/field-schema.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { lookupData } from '../token-response.js';
import type { TokenStore } from '../token-store.js';
import { caller } from './caller.js';

/**
 * `auth/token/lookup-self`, `…/lookup` (by token) and `…/lookup-accessor`.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [tokenLookupPaths({ tokens })]);
 * ```
 */
export function tokenLookupPaths({ tokens }: { readonly tokens: TokenStore }): RouteGroup {
  return {
    name: 'auth/token/lookup',
    routes: [
      route({
        method: 'GET',
        path: '/v1/auth/token/lookup-self',
        handler: async (request, reply) =>
          ok(request, reply, lookupData(caller(request), tokens.now(), request.custos.token)),
      }),
      route({
        method: 'POST',
        path: '/v1/auth/token/lookup',
        fields: { token: field.string({ required: true }) },
        handler: async (request, reply, { token }) => {
          const entry = await tokens.lookup(token);
          if (entry === undefined) throw new CustosError('ERR_INVALID_REQUEST', 'bad token');
          return ok(request, reply, lookupData(entry, tokens.now(), token));
        },
      }),
      route({
        method: 'POST',
        path: '/v1/auth/token/lookup-accessor',
        fields: { accessor: field.string({ required: true }) },
        handler: async (request, reply, { accessor }) => {
          const entry = await tokens.byAccessor(accessor);
          if (entry === undefined) throw new CustosError('ERR_INVALID_REQUEST', 'invalid accessor');
          return ok(request, reply, lookupData(entry, tokens.now()));
        },
      }),
    ],
  };
}
