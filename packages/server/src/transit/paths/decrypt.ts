import { CustosError } from '@custos/core/errors';
import { decryptWithKey } from '@custos/core/internal/transit';
import { bodyOf } from '../../http/body-parser.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { itemsOf, runItems, sendResults } from '../batch.js';
import type { TransitPathDeps } from './deps.js';
import { bindingOf, versionIn } from './items.js';
import { refusePaddingScheme } from './padding-scheme.js';

/**
 * `transit/decrypt/:name`, with `batch_input`; answers carry only the plaintext, as Vault's do.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [decryptPaths({ transitOf, recorder })]);
 * ```
 */
export function decryptPaths({
  transitOf,
  recorder,
  onItemError,
}: Pick<TransitPathDeps, 'transitOf' | 'recorder' | 'onItemError'>): RouteGroup {
  const { keyOperation, logUsage } = recorder;
  return {
    name: 'transit/decrypt',
    routes: [
      keyOperation(
        'decrypt',
        route({
          method: 'POST',
          path: '/v1/:mount/decrypt/:name',
          handler: async (request, reply) => {
            const { transit } = transitOf(request);
            const { name } = request.params;
            // Kept by hand: the body's context and associated_data are each item's defaults.
            const body = bodyOf(request);
            const input = itemsOf(request);
            const { items } = input;
            refusePaddingScheme(body, items);
            const view = await transit.view(
              name,
              items.flatMap((i) => versionIn(i.ciphertext)),
            );
            const results = await runItems(
              items,
              async (item) => {
                const binding = bindingOf(item, body);
                if (item.ciphertext === undefined || item.ciphertext === '')
                  throw new CustosError('ERR_INVALID_REQUEST', 'missing ciphertext to decrypt');
                const { plaintext, keyVersion } = decryptWithKey(view, {
                  ciphertext: item.ciphertext,
                  ...binding,
                });
                return { plaintext: plaintext.toString('base64'), key_version: keyVersion };
              },
              onItemError,
            );
            logUsage(request, name, 'decrypt', results);
            const plain = results.map((r) => ('error' in r ? r : { plaintext: r.plaintext }));
            return sendResults(request, reply, input, plain);
          },
        }),
      ),
    ],
  };
}
