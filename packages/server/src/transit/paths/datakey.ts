import { CustosError } from '@custos/core/errors';
import { encryptWithKey, randomDataKey } from '@custos/core/internal/transit';
import { bodyOf } from '../../http/body-parser.js';
import { ok } from '../../http/envelope.js';
import { optionalBase64, optionalInt } from '../../http/fields.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { TransitPathDeps } from './deps.js';

/**
 * `transit/datakey/:type/:name`: a fresh data key, encrypted under the named key, and in the
 * clear too when `type` is `plaintext`.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [datakeyPaths({ transit, recorder })]);
 * ```
 */
export function datakeyPaths({
  transit,
  recorder,
}: Pick<TransitPathDeps, 'transit' | 'recorder'>): RouteGroup {
  const { keyOperation, logUsage } = recorder;
  return {
    name: 'transit/datakey',
    routes: [
      route({
        method: 'POST',
        path: '/v1/transit/datakey/:type/:name',
        handler: keyOperation(
          // The operation names only the two real types, never arbitrary path text.
          (request) =>
            ['plaintext', 'wrapped'].includes(request.params.type)
              ? `datakey-${request.params.type}`
              : 'datakey',
          async (request, reply) => {
            const { name, type } = request.params;
            if (type !== 'plaintext' && type !== 'wrapped')
              throw new CustosError(
                'ERR_INVALID_REQUEST',
                'invalid type; must be plaintext or wrapped',
              );
            const body = bodyOf(request);
            const key = randomDataKey(optionalInt(body.bits, 'bits') ?? 256);
            const context = optionalBase64(body.context, 'context');
            const session = await transit.forEncryption(name, 1);
            const { ciphertext, keyVersion } = encryptWithKey(await session.take(undefined), {
              plaintext: key,
              ...(context ? { context } : {}),
            });
            logUsage(request, name, `datakey-${type}`, [{ key_version: keyVersion }]);
            const data = {
              ciphertext,
              key_version: keyVersion,
              ...(type === 'plaintext' ? { plaintext: key.toString('base64') } : {}),
            };
            return ok(request, reply, data);
          },
        ),
      }),
    ],
  };
}
