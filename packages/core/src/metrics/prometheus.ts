import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { MetricsHooks } from './hooks.js';

/** Options of {@link prometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /** Prefix of every metric name; default `custos_`. */
  readonly prefix?: string;
}

/**
 * {@link MetricsHooks} that count into a prom-client registry, next to the application's own
 * metrics: `custos_jwt_verification_failures_total{reason}`,
 * `custos_field_decrypt_failures_total{table,column}`,
 * `custos_secret_cache_lookups_total{result}` (`hit`, `miss`) and
 * `custos_rotations_total{kind}`. prom-client (15+) is a peer dependency, loaded when this is
 * called.
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * const registry = new Registry();
 * const metrics = prometheusMetrics(registry);
 * const tokens = createTokenService({ keys, issuer, audience, metrics });
 * ```
 */
export function prometheusMetrics(
  registry: PromClient.Registry,
  options: PrometheusMetricsOptions = {},
): MetricsHooks {
  // Loaded here, not when the entry is imported: OpenTelemetry users need not install it.
  const { Counter } = createRequire(import.meta.url)('prom-client') as typeof PromClient;
  const prefix = options.prefix ?? 'custos_';
  const registers = [registry];
  const jwt = new Counter({
    name: `${prefix}jwt_verification_failures_total`,
    help: 'JWTs refused, by reason',
    labelNames: ['reason'],
    registers,
  });
  const fields = new Counter({
    name: `${prefix}field_decrypt_failures_total`,
    help: 'Encrypted field values that failed authentication, by table and column',
    labelNames: ['table', 'column'],
    registers,
  });
  const cache = new Counter({
    name: `${prefix}secret_cache_lookups_total`,
    help: 'Secret lookups, by result (hit: served from the cache, miss: read from a provider)',
    labelNames: ['result'],
    registers,
  });
  const rotations = new Counter({
    name: `${prefix}rotations_total`,
    help: 'Rotations, by kind (keyring_key, jwt_keys, secret_value)',
    labelNames: ['kind'],
    registers,
  });
  return {
    jwtVerificationFailed: (reason) => jwt.inc({ reason }),
    fieldDecryptFailed: (table, column) => fields.inc({ table, column }),
    secretCacheHit: () => cache.inc({ result: 'hit' }),
    secretCacheMiss: () => cache.inc({ result: 'miss' }),
    rotation: (kind) => rotations.inc({ kind }),
  };
}
