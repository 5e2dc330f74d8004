import { type RouteGroup, route } from '../../http/route-spec.js';

/** Vault's zero time: what `active_time` is when no node is the active one of an HA cluster. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * `sys/leader` (no token, as in Vault): custos has no HA mode with an elected leader (nodes on
 * one PostgreSQL database all serve), so it answers as a Vault without HA storage does:
 * `ha_enabled: false`, `is_self: false`, no leader address.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [leaderPaths()]);
 * ```
 */
export function leaderPaths(): RouteGroup {
  return {
    name: 'sys/leader',
    routes: [
      route({
        method: 'GET',
        path: '/v1/sys/leader',
        access: { unauthenticated: true },
        handler: async (_request, reply) =>
          reply.send({
            ha_enabled: false,
            is_self: false,
            active_time: ZERO_TIME,
            leader_address: '',
            leader_cluster_address: '',
            performance_standby: false,
            performance_standby_last_remote_wal: 0,
          }),
      }),
    ],
  };
}
