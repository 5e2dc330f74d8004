import { CustosError } from '@custos/core/errors';
import { field } from '../../http/field-schema.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { ServerMetrics } from '../../metrics/server-metrics.js';
import { vaultMetrics } from '../../metrics/vault-json.js';

/** What the metrics route needs: the metrics, whether scrapers need no token, the clock. */
export interface MetricsPathDeps {
  readonly metrics: Pick<ServerMetrics, 'registry'>;
  /**
   * `telemetry.unauthenticated_metrics_access`: no token needed (and answered while sealed,
   * so a scraper sees `custos_sealed`). Otherwise `read` on `sys/metrics` is required.
   */
  readonly unauthenticated: boolean;
  readonly clock: () => number;
}

/**
 * `sys/metrics`: `?format=prometheus` answers the text exposition format, no `format` Vault's
 * JSON form (`Gauges`, `Counters`, `Samples`). Guarded by the ACL like any route, unless the
 * server is configured for unauthenticated metrics access.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [metricsPaths({ metrics, unauthenticated: false, clock: Date.now })]);
 * ```
 */
export function metricsPaths({ metrics, unauthenticated, clock }: MetricsPathDeps): RouteGroup {
  return {
    name: 'sys/metrics',
    routes: [
      route({
        method: 'GET',
        path: '/v1/sys/metrics',
        access: unauthenticated ? { unauthenticated: true, whileSealed: true } : {},
        fields: { format: field.string() },
        handler: async (_request, reply, { format }) => {
          const { registry } = metrics;
          if (format === 'prometheus')
            return reply.type(registry.contentType).send(await registry.metrics());
          if (format !== undefined && format !== '')
            throw new CustosError(
              'ERR_INVALID_REQUEST',
              'format must be "prometheus", or absent for JSON',
            );
          return reply.send(await vaultMetrics(registry, new Date(clock())));
        },
      }),
    ],
  };
}
