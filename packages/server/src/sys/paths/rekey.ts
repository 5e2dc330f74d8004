import { CustosError } from '@custos/core/errors';
import { bodyOf } from '../../http/body-parser.js';
import { noContent } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { Rekey } from '../../seal/rekey.js';
import { shareOf } from './seal.js';

/** As in Vault, the key shares are the authorisation: no token (audited, since unsealed). */
const byShares = { unauthenticated: true } as const;

/** What a Vault client always sends that custos does not support, refused unless absent. */
function refuseUnsupported(body: Record<string, unknown>): void {
  const pgp = body.pgp_keys;
  if (pgp !== undefined && pgp !== null && !(Array.isArray(pgp) && pgp.length === 0))
    throw new CustosError('ERR_INVALID_REQUEST', 'pgp_keys is not supported by custos');
  if (body.backup !== undefined && body.backup !== false)
    throw new CustosError('ERR_INVALID_REQUEST', 'backup is not supported by custos');
}

/**
 * `sys/rekey/init` (GET status, POST start, DELETE cancel), `sys/rekey/update` and
 * `sys/rekey/verify` (GET, POST, DELETE), with Vault's bodies. Served only while unsealed. The
 * same routes under `sys/rekey-recovery-key/` for a recovery key rekey (`rekey.path`).
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [rekeyPaths({ rekey })]);
 * ```
 */
export function rekeyPaths({ rekey }: { readonly rekey: Rekey }): RouteGroup {
  return {
    name: rekey.path,
    routes: [
      route({
        method: 'GET',
        path: `/v1/${rekey.path}/init`,
        access: byShares,
        handler: async (_request, reply) => reply.send(await rekey.status()),
      }),
      route({
        method: 'POST',
        path: `/v1/${rekey.path}/init`,
        access: byShares,
        handler: async (request, reply) => {
          // Kept by hand, as sys/init: share counts are JSON numbers, PGP options refused.
          const body = bodyOf(request);
          refuseUnsupported(body);
          const { secret_shares: shares, secret_threshold: threshold } = body;
          if (typeof shares !== 'number' || typeof threshold !== 'number')
            throw new CustosError(
              'ERR_INVALID_REQUEST',
              'secret_shares and secret_threshold must be numbers',
            );
          const verification = body.require_verification;
          if (verification !== undefined && typeof verification !== 'boolean')
            throw new CustosError('ERR_INVALID_REQUEST', 'require_verification must be a boolean');
          return reply.send(
            await rekey.init({ shares, threshold, requireVerification: verification === true }),
          );
        },
      }),
      route({
        method: 'DELETE',
        path: `/v1/${rekey.path}/init`,
        access: byShares,
        handler: async (_request, reply) => {
          await rekey.cancel();
          return noContent(reply);
        },
      }),
      route({
        method: 'POST',
        path: `/v1/${rekey.path}/update`,
        access: byShares,
        handler: async (request, reply) => {
          // Kept by hand: the key is hex or base64 (shareOf).
          const body = bodyOf(request);
          return reply.send(await rekey.update(shareOf(body.key), body.nonce));
        },
      }),
      route({
        method: 'GET',
        path: `/v1/${rekey.path}/verify`,
        access: byShares,
        handler: async (_request, reply) => reply.send(rekey.verifyStatus()),
      }),
      route({
        method: 'POST',
        path: `/v1/${rekey.path}/verify`,
        access: byShares,
        handler: async (request, reply) => {
          const body = bodyOf(request);
          return reply.send(await rekey.verify(shareOf(body.key), body.nonce));
        },
      }),
      route({
        method: 'DELETE',
        path: `/v1/${rekey.path}/verify`,
        access: byShares,
        handler: async (_request, reply) => {
          await rekey.cancelVerification();
          return reply.send(rekey.verifyStatus());
        },
      }),
    ],
  };
}
