import { bodyOf } from '../../http/body-parser.js';
import { noContent } from '../../http/envelope.js';
import { requiredString } from '../../http/fields.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { TokenStore } from '../token-store.js';
import { caller } from './caller.js';

/**
 * `auth/token/revoke-self`, `…/revoke` (by token) and `…/revoke-accessor`. Revocation does not
 * need a live token: an expired one (or one whose parent died) is removed with its tree at once
 * instead of waiting for the sweeper.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [tokenRevokePaths({ tokens })]);
 * ```
 */
export function tokenRevokePaths({ tokens }: { readonly tokens: TokenStore }): RouteGroup {
  return {
    name: 'auth/token/revoke',
    routes: [
      route({
        method: 'POST',
        path: '/v1/auth/token/revoke-self',
        handler: async (request, reply) => {
          await tokens.revoke(caller(request));
          return noContent(reply);
        },
      }),
      route({
        method: 'POST',
        path: '/v1/auth/token/revoke',
        handler: async (request, reply) => {
          await tokens.revokeToken(requiredString(bodyOf(request).token, 'token'));
          return noContent(reply);
        },
      }),
      route({
        method: 'POST',
        path: '/v1/auth/token/revoke-accessor',
        handler: async (request, reply) => {
          await tokens.revokeAccessor(requiredString(bodyOf(request).accessor, 'accessor'));
          return noContent(reply);
        },
      }),
    ],
  };
}
