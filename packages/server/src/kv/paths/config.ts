import { noContent, ok } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import { formatDuration } from '../../lib/duration.js';
import type { KvOf } from './request.js';
import { SETTINGS_FIELDS, settingsOf } from './request.js';

/**
 * `<mount>/config`: the mount's settings.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [kvConfigPaths(kvOf)]);
 * ```
 */
export function kvConfigPaths(kvOf: KvOf): RouteGroup {
  return {
    name: `kv/config`,
    routes: [
      route({
        method: 'GET',
        path: `/v1/:mount/config`,
        handler: async (request, reply) => {
          const cfg = await kvOf(request).config();
          return ok(request, reply, {
            cas_required: cfg.cas_required,
            delete_version_after: formatDuration(cfg.delete_version_after),
            max_versions: cfg.max_versions,
          });
        },
      }),
      route({
        method: 'POST',
        path: `/v1/:mount/config`,
        // Validated before the settings are read: a wrong type is refused whatever they are.
        fields: SETTINGS_FIELDS,
        handler: async (request, reply, fields) => {
          const kv = kvOf(request);
          await kv.setConfig({ ...(await kv.config()), ...settingsOf(fields) });
          return noContent(reply);
        },
      }),
    ],
  };
}
