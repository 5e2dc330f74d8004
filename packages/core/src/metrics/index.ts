/**
 * Library metrics: the {@link MetricsHooks} the token service, field ciphers, the secrets SDK
 * and keyrings call (JWT verification failures, field decrypt failures, secret cache hits and
 * misses, rotations), and adapters that export them with an application's own metrics:
 * prom-client ({@link prometheusMetrics}) and OpenTelemetry ({@link openTelemetryMetrics}).
 * See `docs/metrics.md`.
 *
 * @example
 * ```ts
 * import { prometheusMetrics } from '@custos/core/metrics';
 * import { Registry } from 'prom-client';
 * const metrics = prometheusMetrics(new Registry());
 * const secrets = createSecrets({ metrics });
 * ```
 * @module
 */
export type { JwtFailureReason, MetricsHooks, RotationKind } from './hooks.js';
export { type OpenTelemetryMetricsOptions, openTelemetryMetrics } from './opentelemetry.js';
export { type PrometheusMetricsOptions, prometheusMetrics } from './prometheus.js';
