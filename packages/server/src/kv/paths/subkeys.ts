import { CustosError } from '@custos/core/errors';
import { ok } from '../../http/envelope.js';
import { field } from '../../http/field-schema.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { subkeysOf, versionResponse } from '../kv-metadata.js';
import type { KvOf } from './request.js';
import { keyOf, unavailable, VERSION_FIELD } from './request.js';

/**
 * `<mount>/subkeys/*`: a version's structure without its values (`?depth=` limits it).
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [kvSubkeysPaths(kvOf)]);
 * ```
 */
export function kvSubkeysPaths(kvOf: KvOf): RouteGroup {
  return {
    name: `kv/subkeys`,
    routes: [
      route({
        method: 'GET',
        path: `/v1/:mount/subkeys/*`,
        fields: { version: VERSION_FIELD, depth: field.int({ strict: true, default: 0 }) },
        handler: async (request, reply, { version, depth }) => {
          const found = await kvOf(request).read(keyOf(request.params['*']), version);
          if (found.kind === 'missing') throw new CustosError('ERR_NOT_FOUND', 'not found');
          if (found.kind === 'unavailable') {
            unavailable(request, found.meta, found.version, {
              subkeys: null,
              metadata: versionResponse(found.meta, found.version),
            });
          }
          return ok(request, reply, {
            subkeys: subkeysOf(found.data, depth),
            metadata: versionResponse(found.meta, found.version),
          });
        },
      }),
    ],
  };
}
