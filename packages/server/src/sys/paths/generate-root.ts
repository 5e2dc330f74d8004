import { CustosError } from '@custos/core/errors';
import { bodyOf } from '../../http/body-parser.js';
import { noContent } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { GenerateRoot } from '../../seal/generate-root.js';
import { shareOf } from './seal.js';

/** As in Vault, the key shares are the authorisation: no token (audited, since unsealed). */
const byShares = { unauthenticated: true } as const;

/**
 * `sys/generate-root/attempt` (GET status, POST start, DELETE cancel) and
 * `sys/generate-root/update`, with Vault's bodies (the OTP flow; a PGP key is refused).
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [generateRootPaths({ generateRoot })]);
 * ```
 */
export function generateRootPaths({
  generateRoot,
}: {
  readonly generateRoot: GenerateRoot;
}): RouteGroup {
  return {
    name: 'sys/generate-root',
    routes: [
      route({
        method: 'GET',
        path: '/v1/sys/generate-root/attempt',
        access: byShares,
        handler: async (_request, reply) => reply.send(await generateRoot.status()),
      }),
      route({
        method: 'POST',
        path: '/v1/sys/generate-root/attempt',
        access: byShares,
        handler: async (request, reply) => {
          // Kept by hand: '' is absent for both (Vault's clients send them empty).
          const body = bodyOf(request);
          if (body.pgp_key !== undefined && body.pgp_key !== null && body.pgp_key !== '')
            throw new CustosError('ERR_INVALID_REQUEST', 'pgp_key is not supported by custos');
          const otp = body.otp;
          if (otp !== undefined && otp !== null && typeof otp !== 'string')
            throw new CustosError('ERR_INVALID_REQUEST', 'otp must be a string');
          return reply.send(
            await generateRoot.init(typeof otp === 'string' && otp !== '' ? otp : undefined),
          );
        },
      }),
      route({
        method: 'DELETE',
        path: '/v1/sys/generate-root/attempt',
        access: byShares,
        handler: async (_request, reply) => {
          await generateRoot.cancel();
          return noContent(reply);
        },
      }),
      route({
        method: 'POST',
        path: '/v1/sys/generate-root/update',
        access: byShares,
        handler: async (request, reply) => {
          // Kept by hand: the key is hex or base64 (shareOf).
          const body = bodyOf(request);
          return reply.send(await generateRoot.update(shareOf(body.key), body.nonce));
        },
      }),
    ],
  };
}
