import { CustosError } from '@custos/core/errors';
import { bodyOf } from '../../http/body-parser.js';
import { tokenOf } from '../../http/boundary.js';
import { envelope, ok } from '../../http/envelope.js';
import { field } from '../../http/field-schema.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { INVALID_WRAPPING_TOKEN, type WrappingStore } from '../../wrapping/wrapping-store.js';

/** Vault's default wrap TTL of `sys/wrapping/wrap` when the request gives none: 5 minutes. */
const DEFAULT_WRAP_TTL_SECONDS = 300;

/** The wrapping token: the body's `token`, else the request's own token (as in Vault). */
function wrappingTokenOf(bodyToken: string | undefined, headerToken: string | undefined): string {
  const token = bodyToken !== undefined && bodyToken !== '' ? bodyToken : headerToken;
  if (token === undefined || token === '')
    throw new CustosError('ERR_INVALID_REQUEST', INVALID_WRAPPING_TOKEN);
  return token;
}

/**
 * `sys/wrapping/wrap|unwrap|lookup|rewrap`. Unwrap and lookup need no token but the wrapping
 * token itself (in the body's `token` or as the request's token), as in Vault: the wrapping
 * token is the credential. Wrap and rewrap need `update` on their path.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [wrappingPaths({ wrapping })]);
 * ```
 */
export function wrappingPaths({ wrapping }: { readonly wrapping: WrappingStore }): RouteGroup {
  return {
    name: 'sys/wrapping',
    routes: [
      route({
        method: 'POST',
        path: '/v1/sys/wrapping/wrap',
        handler: async (request, reply) => {
          // Kept by hand: the whole body is the data to wrap, whatever its keys.
          const body = bodyOf(request);
          if (Object.keys(body).length === 0)
            throw new CustosError('ERR_INVALID_REQUEST', 'empty request body');
          request.custos.wrapTtl ??= DEFAULT_WRAP_TTL_SECONDS;
          return ok(request, reply, body);
        },
      }),
      route({
        method: 'POST',
        path: '/v1/sys/wrapping/unwrap',
        access: { unauthenticated: true },
        fields: { token: field.string() },
        handler: async (request, reply, { token }) => {
          const response = await wrapping.unwrap(wrappingTokenOf(token, tokenOf(request)));
          const stored =
            response !== null && typeof response === 'object'
              ? (response as Record<string, unknown>)
              : {};
          return reply
            .code(200)
            .send({ ...envelope(request, null), ...stored, request_id: request.id });
        },
      }),
      route({
        method: 'POST',
        path: '/v1/sys/wrapping/lookup',
        access: { unauthenticated: true },
        fields: { token: field.string() },
        handler: async (request, reply, { token }) =>
          ok(request, reply, await wrapping.lookup(wrappingTokenOf(token, tokenOf(request)))),
      }),
      route({
        method: 'POST',
        path: '/v1/sys/wrapping/rewrap',
        fields: { token: field.string() },
        handler: async (request, reply, { token }) => {
          if (token === undefined || token === '')
            throw new CustosError('ERR_INVALID_REQUEST', INVALID_WRAPPING_TOKEN);
          const wrapInfo = await wrapping.rewrap(token);
          return reply.code(200).send({ ...envelope(request, null), wrap_info: wrapInfo });
        },
      }),
    ],
  };
}
