import type { ServerContext } from '../../context.js';
import { ok } from '../../http/envelope.js';
import { type RouteGroup, route } from '../../http/route-spec.js';

/** Vault's zero time: what `active_time` is when no node is the active one of an HA cluster. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * `sys/leader` (no token, as in Vault) and `sys/ha-status` (sudo). On PostgreSQL the nodes
 * sharing the database form a cluster: the leader is the node holding the cluster's advisory
 * lock (it runs the periodic jobs), every node serves every request. `sys/leader` names the
 * leader's address and whether it is this node; `sys/ha-status` lists the nodes with a recent
 * heartbeat. On SQLite (one node) `ha_enabled` is false, as a Vault without HA storage answers.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [leaderPaths(ctx)]);
 * ```
 */
export function leaderPaths(ctx: Pick<ServerContext, 'cluster'>): RouteGroup {
  return {
    name: 'sys/leader',
    routes: [
      route({
        method: 'GET',
        path: '/v1/sys/leader',
        access: { unauthenticated: true },
        handler: async (_request, reply) => {
          if (!ctx.cluster.haEnabled)
            return reply.send({
              ha_enabled: false,
              is_self: false,
              active_time: ZERO_TIME,
              leader_address: '',
              leader_cluster_address: '',
              performance_standby: false,
              performance_standby_last_remote_wal: 0,
            });
          const leader = await ctx.cluster.leader();
          return reply.send({
            ha_enabled: true,
            is_self: leader?.id === ctx.cluster.id,
            active_time:
              leader?.activeSince === undefined
                ? ZERO_TIME
                : new Date(leader.activeSince).toISOString(),
            leader_address: leader?.apiAddress ?? '',
            leader_cluster_address: '',
            performance_standby: false,
            performance_standby_last_remote_wal: 0,
          });
        },
      }),
      route({
        method: 'GET',
        path: '/v1/sys/ha-status',
        access: { sudo: true },
        handler: async (request, reply) => {
          const [nodes, leader] = await Promise.all([ctx.cluster.list(), ctx.cluster.leader()]);
          return ok(request, reply, {
            nodes: nodes.map((node) => ({
              hostname: node.hostname,
              api_address: node.apiAddress,
              cluster_address: '',
              active_node: node.id === leader?.id,
              last_echo: new Date(node.lastEcho).toISOString(),
              version: node.version,
              upgrade_version: node.version,
              redundancy_zone: '',
              node_id: node.id,
            })),
          });
        },
      }),
    ],
  };
}
