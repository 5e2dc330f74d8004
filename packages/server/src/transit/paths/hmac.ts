import { hmacWithKey, parseVersioned } from '@custos/core/internal/transit';
import { bodyOf } from '../../http/body-parser.js';
import { base64Field, optionalInt } from '../../http/fields.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { itemsOf, runItems, sendResults } from '../batch.js';
import type { TransitPathDeps } from './deps.js';
import { versionsRequested } from './items.js';

/**
 * `transit/hmac/:name[/:algorithm]`, with `batch_input` (verification is at `transit/verify`).
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [hmacPaths({ transitOf, recorder })]);
 * ```
 */
export function hmacPaths({
  transitOf,
  recorder,
}: Pick<TransitPathDeps, 'transitOf' | 'recorder'>): RouteGroup {
  const { keyOperation, logUsage } = recorder;
  return {
    name: 'transit/hmac',
    routes: [
      keyOperation(
        'hmac',
        route({
          method: 'POST',
          path: ['/v1/:mount/hmac/:name', '/v1/:mount/hmac/:name/:algorithm'],
          handler: async (request, reply) => {
            const { transit } = transitOf(request);
            const { name } = request.params;
            // Kept by hand: the body's key_version is each item's default (read per item, as
            // Vault), and the path's algorithm wins over the body's.
            const body = bodyOf(request);
            const algorithm =
              request.params.algorithm ??
              (typeof body.algorithm === 'string' ? body.algorithm : undefined);
            const input = itemsOf(request);
            const { items } = input;
            const view = await transit.view(name, versionsRequested(items, body));
            const results = await runItems(items, async (item) => {
              const hmac = hmacWithKey(
                view,
                base64Field(item.input, 'input'),
                algorithm,
                optionalInt(item.key_version ?? body.key_version, 'key_version'),
              );
              return { hmac, key_version: parseVersioned(hmac).version };
            });
            logUsage(request, name, 'hmac', results);
            return sendResults(
              request,
              reply,
              input,
              results.map((r) => ('error' in r ? r : { hmac: r.hmac })),
            );
          },
        }),
      ),
    ],
  };
}
