import { CustosError } from '@custos/core/errors';
import { ok } from '../../http/envelope.js';
import { field } from '../../http/field-schema.js';
import { type RouteGroup, route } from '../../http/route-spec.js';
import type { MetricsHistory } from '../../metrics/metrics-history.js';
import type { ServerMetrics } from '../../metrics/server-metrics.js';
import { vaultMetrics } from '../../metrics/vault-json.js';

/** What the metrics route needs: the metrics, whether scrapers need no token, the clock. */
export interface MetricsPathDeps {
  readonly metrics: Pick<ServerMetrics, 'registry' | 'certificates'>;
  /** The last hour's samples (`sys/metrics-history`). */
  readonly history: Pick<MetricsHistory, 'samples' | 'intervalMs'>;
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
 * server is configured for unauthenticated metrics access. `sys/metrics-history`: the last
 * hour's samples (`MetricsHistory`) and the served certificate's days to expiry, for the
 * dashboard, under the same guard.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [
 *   metricsPaths({ metrics, history, unauthenticated: false, clock: Date.now }),
 * ]);
 * ```
 */
export function metricsPaths({
  metrics,
  history,
  unauthenticated,
  clock,
}: MetricsPathDeps): RouteGroup {
  const access = unauthenticated ? { unauthenticated: true, whileSealed: true } : {};
  return {
    name: 'sys/metrics',
    routes: [
      route({
        method: 'GET',
        path: '/v1/sys/metrics',
        access,
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
      // The dashboard's charts: guarded exactly as sys/metrics (the same `access`, and `read` on
      // its own path otherwise), since it shows what sys/metrics shows, over time.
      route({
        method: 'GET',
        path: '/v1/sys/metrics-history',
        access,
        handler: async (request, reply) => {
          return ok(request, reply, {
            interval_seconds: history.intervalMs / 1000,
            samples: history.samples(),
            certificates: metrics.certificates().map((cert) => ({
              name: cert.name,
              subject: cert.subject,
              days_left: Math.floor(cert.daysLeft),
              expires: new Date(cert.notAfter).toISOString(),
            })),
          });
        },
      }),
    ],
  };
}
