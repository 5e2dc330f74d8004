import { PermissionDenied } from '@custos/core/errors';
import { bodyOf } from '../../http/body-parser.js';
import { ok } from '../../http/envelope.js';
import { optionalDuration, requiredString } from '../../http/fields.js';
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
  const renewed = async (entry: TokenEntry | undefined, body: Record<string, unknown>) => {
    if (entry === undefined) throw new PermissionDenied();
    return tokens.renew(entry, optionalDuration(body.increment, 'increment'));
  };
  return {
    name: 'auth/token/renew',
    routes: [
      route({
        method: 'POST',
        path: '/v1/auth/token/renew-self',
        handler: async (request, reply) => {
          const entry = await renewed(caller(request), bodyOf(request));
          const auth = authBlock(request.custos.token as string, entry, tokens.now());
          return ok(request, reply, null, { auth });
        },
      }),
      route({
        method: 'POST',
        path: '/v1/auth/token/renew',
        handler: async (request, reply) => {
          const body = bodyOf(request);
          const token = requiredString(body.token, 'token');
          const entry = await renewed(await tokens.lookup(token), body);
          return ok(request, reply, null, { auth: authBlock(token, entry, tokens.now()) });
        },
      }),
      route({
        method: 'POST',
        path: '/v1/auth/token/renew-accessor',
        handler: async (request, reply) => {
          const body = bodyOf(request);
          const entry = await renewed(
            await tokens.byAccessor(requiredString(body.accessor, 'accessor')),
            body,
          );
          // Named by accessor: the token itself is not returned (as Vault).
          return ok(request, reply, null, { auth: authBlock('', entry, tokens.now()) });
        },
      }),
    ],
  };
}
