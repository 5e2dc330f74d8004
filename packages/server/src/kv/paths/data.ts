import { CustosError } from '@custos/core/errors';
import { bodyOf } from '../../http/body-parser.js';
import { noContent, ok } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { versionResponse } from '../kv-metadata.js';
import { stageOfQuery } from '../kv-stages.js';
import type { KvOf } from './request.js';
import {
  casOf,
  dataOf,
  keyExists,
  keyOf,
  requireMergePatch,
  unavailable,
  VERSION_FIELD,
} from './request.js';

/**
 * `<mount>/data/*`: read, write (with check-and-set), merge-patch and soft-delete a secret.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [kvDataPaths(kvOf)]);
 * ```
 */
export function kvDataPaths(kvOf: KvOf): RouteGroup {
  const path = `/v1/:mount/data/*` as const;
  return {
    name: `kv/data`,
    routes: [
      route({
        method: 'GET',
        path,
        fields: { version: VERSION_FIELD },
        handler: async (request, reply, { version }) => {
          const key = keyOf(request.params['*']);
          // `?stage=` is one of three names, which no field type expresses: read by hand.
          const found = await kvOf(request).read(key, version, stageOfQuery(request.query.stage));
          if (found.kind === 'missing') throw new CustosError('ERR_NOT_FOUND', 'not found');
          if (found.kind === 'unavailable')
            unavailable(request, found.meta, found.version, undefined);
          return ok(request, reply, {
            data: found.data,
            metadata: versionResponse(found.meta, found.version),
          });
        },
      }),
      route({
        method: 'POST',
        path,
        access: { exists: keyExists(kvOf) },
        handler: async (request, reply) => {
          const body = bodyOf(request);
          const key = keyOf(request.params['*']);
          const { meta, version } = await kvOf(request).write(key, dataOf(body), casOf(body));
          return ok(request, reply, versionResponse(meta, version));
        },
      }),
      route({
        method: 'PATCH',
        path,
        handler: async (request, reply) => {
          requireMergePatch(request);
          const body = bodyOf(request);
          const key = keyOf(request.params['*']);
          try {
            const { meta, version } = await kvOf(request).patch(key, dataOf(body), casOf(body));
            return ok(request, reply, versionResponse(meta, version));
          } catch (err) {
            if ((err as CustosError).code !== 'ERR_NOT_FOUND') throw err;
            const meta = await kvOf(request).readMetadata(key);
            if (meta === undefined || meta.versions[String(meta.current_version)] === undefined)
              throw err;
            return unavailable(
              request,
              meta,
              meta.current_version,
              versionResponse(meta, meta.current_version),
            );
          }
        },
      }),
      route({
        method: 'DELETE',
        path,
        handler: async (request, reply) => {
          await kvOf(request).deleteLatest(keyOf(request.params['*']));
          return noContent(reply);
        },
      }),
    ],
  };
}
