import { bodyOf } from '../../http/body-parser.js';
import { noContent } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { KvEngine } from '../kv-engine.js';
import type { KvOf } from './request.js';
import { keyOf, versionsOf } from './request.js';

/**
 * `<mount>/delete/*`, `<mount>/undelete/*`, `<mount>/destroy/*`: act on listed versions.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [kvVersionsPaths(kvOf)]);
 * ```
 */
export function kvVersionsPaths(kvOf: KvOf): RouteGroup {
  const action = (
    name: string,
    apply: (kv: KvEngine, key: string, versions: readonly number[]) => Promise<unknown>,
  ) =>
    route({
      method: 'POST',
      path: `/v1/:mount/${name}/*`,
      handler: async (request, reply) => {
        const key = keyOf(request.params['*']);
        await apply(kvOf(request), key, versionsOf(bodyOf(request)));
        return noContent(reply);
      },
    });
  return {
    name: `kv/versions`,
    routes: [
      action('delete', (kv, key, versions) => kv.deleteVersions(key, versions)),
      action('undelete', (kv, key, versions) => kv.undeleteVersions(key, versions)),
      action('destroy', (kv, key, versions) => kv.destroyVersions(key, versions)),
    ],
  };
}
