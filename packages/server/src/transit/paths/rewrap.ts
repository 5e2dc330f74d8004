import { decryptWithKey, encryptWithKey } from '@custos/core/internal/transit';
import { bodyOf } from '../../http/body-parser.js';
import { field } from '../../http/field-schema.js';
import { optionalInt } from '../../http/fields.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { itemsOf, runItems, sendResults } from '../batch.js';
import type { TransitPathDeps } from './deps.js';
import { bindingOf, versionIn, versionsRequested } from './items.js';
import { refusePaddingScheme } from './padding-scheme.js';

/**
 * `transit/rewrap/:name`: decrypts and encrypts again under the key's latest (or a named)
 * version; the plaintext never leaves the server.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [rewrapPaths({ transitOf, recorder })]);
 * ```
 */
export function rewrapPaths({
  transitOf,
  recorder,
  onItemError,
}: Pick<TransitPathDeps, 'transitOf' | 'recorder' | 'onItemError'>): RouteGroup {
  const { keyOperation, logUsage } = recorder;
  return {
    name: 'transit/rewrap',
    routes: [
      keyOperation(
        'rewrap',
        route({
          method: 'POST',
          path: '/v1/:mount/rewrap/:name',
          // The request's key_version is each item's default; an item's own is read per item.
          fields: { key_version: field.int() },
          handler: async (request, reply, { key_version: requested }) => {
            const { transit } = transitOf(request);
            const { name } = request.params;
            // The body's context, associated_data and ciphertext are the single item's.
            const body = bodyOf(request);
            const input = itemsOf(request);
            refusePaddingScheme(body, input.items);
            const { items } = input;
            const session = await transit.forEncryption(name, items.length, [
              ...items.flatMap((i) => versionIn(i.ciphertext)),
              ...versionsRequested(items, body),
            ]);
            const results = await runItems(
              items,
              async (item) => {
                const binding = bindingOf(item, body);
                const keyVersion = optionalInt(item.key_version, 'key_version') ?? requested;
                const { plaintext } = decryptWithKey(session.view, {
                  ciphertext: item.ciphertext,
                  ...binding,
                });
                // Rewrap never hands the plaintext out; it lives here only between the two operations.
                try {
                  const { ciphertext, keyVersion: used } = encryptWithKey(
                    await session.take(keyVersion),
                    {
                      plaintext,
                      ...binding,
                      ...(keyVersion ? { keyVersion } : {}),
                    },
                  );
                  return { ciphertext, key_version: used };
                } finally {
                  plaintext.fill(0);
                }
              },
              onItemError,
            );
            logUsage(request, name, 'rewrap', results);
            return sendResults(request, reply, input, results);
          },
        }),
      ),
    ],
  };
}
