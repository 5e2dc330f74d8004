import { signWithKey } from '@custos/core/internal/transit';
import { bodyOf } from '../../http/body-parser.js';
import { base64Field, optionalInt } from '../../http/fields.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { itemsOf, runItems, sendResults } from '../batch.js';
import type { TransitPathDeps } from './deps.js';
import { versionsRequested } from './items.js';
import { signatureOptions } from './signature-options.js';

/**
 * `transit/sign/:name[/:algorithm]`, with `batch_input`.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [signPaths({ transitOf, recorder })]);
 * ```
 */
export function signPaths({
  transitOf,
  recorder,
}: Pick<TransitPathDeps, 'transitOf' | 'recorder'>): RouteGroup {
  const { keyOperation, logUsage } = recorder;
  return {
    name: 'transit/sign',
    routes: [
      keyOperation(
        'sign',
        route({
          method: 'POST',
          path: ['/v1/:mount/sign/:name', '/v1/:mount/sign/:name/:algorithm'],
          handler: async (request, reply) => {
            const { transit } = transitOf(request);
            const { name } = request.params;
            // Kept by hand: the body's key_version is each item's default (read per item).
            const body = bodyOf(request);
            const options = signatureOptions(request.params.algorithm, body);
            const input = itemsOf(request);
            const { items } = input;
            const view = await transit.view(name, versionsRequested(items, body));
            const results = await runItems(items, async (item) => {
              const keyVersion = optionalInt(item.key_version ?? body.key_version, 'key_version');
              const { signature, keyVersion: used } = signWithKey(
                view,
                base64Field(item.input, 'input'),
                {
                  ...options,
                  ...(keyVersion === undefined ? {} : { keyVersion }),
                },
              );
              return { signature, key_version: used };
            });
            logUsage(request, name, 'sign', results);
            return sendResults(request, reply, input, results);
          },
        }),
      ),
    ],
  };
}
