import { type RouteGroup, type RouteRequest, route } from '../../http/route-spec.js';
import type { SealManager } from '../../seal/seal-manager.js';

/** Kept by hand: as in Vault, a code that is not a valid HTTP status is ignored, not refused. */
function healthCode(request: RouteRequest, name: string, fallback: number): number {
  const raw = request.query[name];
  const n = typeof raw === 'string' ? Number(raw) : Number.NaN;
  return Number.isInteger(n) && n >= 100 && n <= 599 ? n : fallback;
}

/**
 * `sys/health` (GET and HEAD; no token, answered while sealed, not audited), with Vault's
 * `uninitcode`, `sealedcode` and `activecode` query overrides.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [healthPaths({ seal, version })]);
 * ```
 */
export function healthPaths({
  seal,
  version,
}: {
  readonly seal: SealManager;
  readonly version: string;
}): RouteGroup {
  return {
    name: 'sys/health',
    routes: [
      route({
        method: ['GET', 'HEAD'],
        path: '/v1/sys/health',
        access: { unauthenticated: true, whileSealed: true, audit: false },
        handler: async (request, reply) => {
          const status = seal.status();
          const code = !status.initialized
            ? healthCode(request, 'uninitcode', 501)
            : status.sealed
              ? healthCode(request, 'sealedcode', 503)
              : healthCode(request, 'activecode', 200);
          return reply.code(code).send({
            initialized: status.initialized,
            sealed: status.sealed,
            standby: false,
            performance_standby: false,
            replication_performance_mode: 'disabled',
            replication_dr_mode: 'disabled',
            server_time_utc: Math.floor(Date.now() / 1000),
            version,
            cluster_name: 'custos',
            cluster_id: '',
          });
        },
      }),
    ],
  };
}
