import { TOKEN_PATHS } from '../../auth/token-entry.js';
import { tokenStorage } from '../../auth/token-store.js';
import type { Barrier } from '../../barrier/barrier.js';
import { ok } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';

/**
 * `sys/internal/counters/tokens`: how many service tokens are stored (as Vault counts them:
 * every stored token entry, including expired ones the sweeper has not revoked yet). Needs
 * `read` on the path.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [tokenCountersPaths({ barrier })]);
 * ```
 */
export function tokenCountersPaths({ barrier }: { readonly barrier: Barrier }): RouteGroup {
  const tokens = tokenStorage(barrier);
  return {
    name: 'sys/internal/counters',
    routes: [
      route({
        method: 'GET',
        path: '/v1/sys/internal/counters/tokens',
        handler: async (request, reply) => {
          // Paths are not secret (keyed hashes): counting them decrypts nothing.
          const total = (await tokens.listPaths(TOKEN_PATHS.id)).length;
          return ok(request, reply, { counters: { service_tokens: { total } } });
        },
      }),
    ],
  };
}
