import { PermissionDenied } from '@custos/core/errors';
import { ok } from '../../http/envelope.js';
import { field } from '../../http/field-schema.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { authBlock } from '../token-response.js';
import type { TokenEntry, TokenStore } from '../token-store.js';
import { caller } from './caller.js';

/**
 * `auth/token/renew-self`, `…/renew` (by token) and `…/renew-accessor`.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [tokenRenewPaths({ tokens })]);
 * ```
 */
export function tokenRenewPaths({ tokens }: { readonly tokens: TokenStore }): RouteGroup {
  const renewed = async (entry: TokenEntry | undefined, increment: number | undefined) => {
    if (entry === undefined) throw new PermissionDenied();
    return tokens.renew(entry, increment);
  };
  const increment = field.duration();
  return {
    name: 'auth/token/renew',
    routes: [
      route({
        method: 'POST',
        path: '/v1/auth/token/renew-self',
        fields: { increment },
        handler: async (request, reply, fields) => {
          const entry = await renewed(caller(request), fields.increment);
          const auth = authBlock(request.custos.token as string, entry, tokens.now());
          return ok(request, reply, null, { auth });
        },
      }),
      route({
        method: 'POST',
        path: '/v1/auth/token/renew',
        fields: { token: field.string({ required: true }), increment },
        handler: async (request, reply, fields) => {
          const { token } = fields;
          const entry = await renewed(await tokens.lookup(token), fields.increment);
          return ok(request, reply, null, { auth: authBlock(token, entry, tokens.now()) });
        },
      }),
      route({
        method: 'POST',
        path: '/v1/auth/token/renew-accessor',
        fields: { accessor: field.string({ required: true }), increment },
        handler: async (request, reply, fields) => {
          const entry = await renewed(await tokens.byAccessor(fields.accessor), fields.increment);
          // Named by accessor: the token itself is not returned (as Vault).
          return ok(request, reply, null, { auth: authBlock('', entry, tokens.now()) });
        },
      }),
    ],
  };
}
