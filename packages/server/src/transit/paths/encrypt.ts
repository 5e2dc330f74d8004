import { CustosError } from '@custos/core/errors';
import { encryptWithKey } from '@custos/core/internal/transit';
import { bodyOf } from '../../http/body-parser.js';
import { field } from '../../http/field-schema.js';
import { base64Field, optionalInt } from '../../http/fields.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { itemsOf, runItems, sendResults } from '../batch.js';
import { refuseCreationSettings, upsertOptions } from '../upsert.js';
import type { TransitPathDeps } from './deps.js';
import { bindingOf, versionsRequested } from './items.js';
import { refusePaddingScheme } from './padding-scheme.js';

/**
 * `transit/encrypt/:name`, with `batch_input`. Encrypting to a missing key creates it (upsert)
 * when the token may `create` on the path, with default settings but for its type and
 * convergence (see upsert.ts).
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [encryptPaths({ transitOf, recorder })]);
 * ```
 */
export function encryptPaths({
  transitOf,
  recorder,
}: Pick<TransitPathDeps, 'transitOf' | 'recorder'>): RouteGroup {
  const { keyOperation, logUsage } = recorder;
  return {
    name: 'transit/encrypt',
    routes: [
      keyOperation(
        'encrypt',
        route({
          method: 'POST',
          path: '/v1/:mount/encrypt/:name',
          access: { exists: (request) => transitOf(request).transit.exists(request.params.name) },
          // The request's key_version is each item's default; an item's own is read per item.
          fields: { key_version: field.int() },
          handler: async (request, reply, { key_version: requested }) => {
            const { transit } = transitOf(request);
            const { name } = request.params;
            // The body's context, associated_data and plaintext are the single item's.
            const body = bodyOf(request);
            const input = itemsOf(request);
            const { items } = input;
            refuseCreationSettings(body, items);
            refusePaddingScheme(body, items);
            // Vault's words when a single encrypt has no plaintext (an empty one encrypts '').
            if (!input.batch && (body.plaintext === undefined || body.plaintext === null))
              throw new CustosError('ERR_INVALID_REQUEST', 'missing plaintext to encrypt');
            // The boundary already asked whether the key exists (create vs update); a key that
            // appeared since is left as it is (createKey returns false), one deleted since fails
            // below.
            if (request.custos.operation === 'create') {
              // A single item that cannot be encrypted creates no key.
              if (!input.batch) plaintextOf(body);
              await transit.createKey(name, upsertOptions(body, items));
              await transitOf(request).settle();
            }
            const session = await transit.forEncryption(
              name,
              items.length,
              versionsRequested(items, body),
            );
            const results = await runItems(items, async (item) => {
              const binding = bindingOf(item, body);
              const keyVersion = optionalInt(item.key_version, 'key_version') ?? requested;
              const plaintext = plaintextOf(item);
              const { ciphertext, keyVersion: used } = encryptWithKey(
                await session.take(keyVersion),
                {
                  plaintext,
                  ...binding,
                  ...(keyVersion === undefined ? {} : { keyVersion }),
                },
              );
              return { ciphertext, key_version: used };
            });
            logUsage(request, name, 'encrypt', results);
            return sendResults(request, reply, input, results);
          },
        }),
      ),
    ],
  };
}

/** An item's plaintext; absent → Vault's `missing plaintext to encrypt` (clients match it). */
function plaintextOf(item: { readonly plaintext?: unknown }): Buffer {
  if (item.plaintext === undefined || item.plaintext === null)
    throw new CustosError('ERR_INVALID_REQUEST', 'missing plaintext to encrypt');
  return base64Field(item.plaintext, 'plaintext');
}
