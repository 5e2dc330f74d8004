import { CustosError } from '@custos/core/errors';
import { encryptWithKey, randomDataKey } from '@custos/core/internal/transit';
import { bodyOf } from '../../http/body-parser.js';
import { ok } from '../../http/envelope.js';
import { field } from '../../http/field-schema.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { TransitPathDeps } from './deps.js';
import { refusePaddingScheme } from './padding-scheme.js';

/**
 * `transit/datakey/:type/:name`: a fresh data key, encrypted under the named key, and in the
 * clear too when `type` is `plaintext`.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [datakeyPaths({ transitOf, recorder })]);
 * ```
 */
export function datakeyPaths({
  transitOf,
  recorder,
}: Pick<TransitPathDeps, 'transitOf' | 'recorder'>): RouteGroup {
  const { keyOperation, logUsage } = recorder;
  return {
    name: 'transit/datakey',
    routes: [
      keyOperation(
        // The operation names only the two real types, never arbitrary path text.
        ({ type }) => (type === 'plaintext' || type === 'wrapped' ? `datakey-${type}` : 'datakey'),
        route({
          method: 'POST',
          path: '/v1/:mount/datakey/:type/:name',
          fields: { bits: field.int({ default: 256 }), context: field.base64() },
          handler: async (request, reply, { bits, context }) => {
            const { transit } = transitOf(request);
            const { name, type } = request.params;
            if (type !== 'plaintext' && type !== 'wrapped')
              throw new CustosError(
                'ERR_INVALID_REQUEST',
                'invalid type; must be plaintext or wrapped',
              );
            refusePaddingScheme(bodyOf(request));
            const key = randomDataKey(bits);
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
        }),
      ),
    ],
  };
}
