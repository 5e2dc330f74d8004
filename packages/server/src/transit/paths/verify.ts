import { CustosError } from '@custos/core/errors';
import { parseVersioned, verifyHmacWithKey, verifyWithKey } from '@custos/core/internal/transit';
import { bodyOf } from '../../http/body-parser.js';
import { base64Field } from '../../http/fields.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { itemsOf, runItems, sendResults } from '../batch.js';
import type { TransitPathDeps } from './deps.js';
import { versionIn } from './items.js';
import { signatureOptions } from './signature-options.js';

/**
 * `transit/verify/:name[/:algorithm]`: a signature, or an HMAC, with `batch_input`.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [verifyPaths({ transitOf, recorder })]);
 * ```
 */
export function verifyPaths({
  transitOf,
  recorder,
}: Pick<TransitPathDeps, 'transitOf' | 'recorder'>): RouteGroup {
  const { keyOperation, logUsage } = recorder;
  return {
    name: 'transit/verify',
    routes: [
      keyOperation(
        'verify',
        route({
          method: 'POST',
          path: ['/v1/:mount/verify/:name', '/v1/:mount/verify/:name/:algorithm'],
          handler: async (request, reply) => {
            const { transit } = transitOf(request);
            const { name } = request.params;
            // Kept by hand: the body's signature and hmac are each item's defaults (read per item).
            const body = bodyOf(request);
            const options = signatureOptions(request.params.algorithm, body);
            const input = itemsOf(request);
            const { items, batch } = input;
            const urlSafe = options.marshalingAlgorithm === 'jws';
            const view = await transit.view(
              name,
              items.flatMap((i) => [
                ...versionIn(i.signature ?? body.signature, urlSafe),
                ...versionIn(i.hmac ?? body.hmac),
              ]),
            );
            const results = await runItems(items, async (item) => {
              const data = base64Field(item.input, 'input');
              const hmac = item.hmac ?? (batch ? undefined : body.hmac);
              if (hmac !== undefined) {
                const algorithm =
                  request.params.algorithm ??
                  (typeof body.algorithm === 'string' ? body.algorithm : undefined);
                return {
                  valid: verifyHmacWithKey(view, data, hmac, algorithm),
                  key_version: parseVersioned(hmac).version,
                };
              }
              const signature = item.signature ?? (batch ? undefined : body.signature);
              if (signature === undefined)
                throw new CustosError('ERR_INVALID_REQUEST', 'missing signature or hmac to verify');
              return {
                valid: verifyWithKey(view, data, signature, options),
                key_version: parseVersioned(signature, urlSafe).version,
              };
            });
            logUsage(request, name, 'verify', results);
            return sendResults(
              request,
              reply,
              input,
              results.map((r) => ('error' in r ? r : { valid: r.valid })),
            );
          },
        }),
      ),
    ],
  };
}
