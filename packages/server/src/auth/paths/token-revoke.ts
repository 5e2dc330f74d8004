import { envelope, noContent } from '../../http/envelope.js';
import { field } from '../../http/field-schema.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { TokenStore } from '../token-store.js';
import { caller } from './caller.js';

/** Vault's answer to `auth/token/tidy` (it runs in the background there; here before the answer). */
const TIDY_WARNING =
  "Tidy operation successfully started. Any information from the operation will be printed to Vault's server logs.";

/**
 * `auth/token/revoke-self`, `…/revoke` (by token), `…/revoke-accessor`, `…/revoke-orphan`
 * (sudo: the token goes, its children become orphans) and `…/tidy`. Revocation does not
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
        fields: { token: field.string({ required: true }) },
        handler: async (_request, reply, { token }) => {
          await tokens.revokeToken(token);
          return noContent(reply);
        },
      }),
      route({
        method: 'POST',
        path: '/v1/auth/token/revoke-accessor',
        fields: { accessor: field.string({ required: true }) },
        handler: async (_request, reply, { accessor }) => {
          await tokens.revokeAccessor(accessor);
          return noContent(reply);
        },
      }),
      route({
        method: 'POST',
        path: '/v1/auth/token/revoke-orphan',
        access: { sudo: true },
        fields: { token: field.string({ required: true }) },
        handler: async (_request, reply, { token }) => {
          await tokens.revokeOrphan(token);
          return noContent(reply);
        },
      }),
      route({
        method: 'POST',
        path: '/v1/auth/token/tidy',
        handler: async (request, reply) => {
          const done = await tokens.tidy();
          return reply.code(202).send(
            envelope(
              request,
              {
                revoked: done.revoked,
                accessors_removed: done.accessors,
                child_links_removed: done.links,
              },
              { warnings: [TIDY_WARNING] },
            ),
          );
        },
      }),
    ],
  };
}
