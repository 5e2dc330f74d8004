import { bodyOf } from '../../http/body-parser.js';
import { noContent } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { KvEngine } from '../kv-engine.js';
import { keyOf, versionsOf } from './request.js';

/**
 * `<mount>/delete/*`, `<mount>/undelete/*`, `<mount>/destroy/*`: act on listed versions.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [kvVersionsPaths('secret', kv)]);
 * ```
 */
export function kvVersionsPaths(mount: string, kv: KvEngine): RouteGroup {
  const action = (
    name: string,
    apply: (key: string, versions: readonly number[]) => Promise<unknown>,
  ) =>
    route({
      method: 'POST',
      path: `/v1/${mount}/${name}/*`,
      handler: async (request, reply) => {
        const key = keyOf(request.params['*']);
        await apply(key, versionsOf(bodyOf(request)));
        return noContent(reply);
      },
    });
  return {
    name: `${mount}/versions`,
    routes: [
      action('delete', kv.deleteVersions),
      action('undelete', kv.undeleteVersions),
      action('destroy', kv.destroyVersions),
    ],
  };
}
