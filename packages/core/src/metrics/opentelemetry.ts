import type { Meter } from '@opentelemetry/api';
import type { MetricsHooks } from './hooks.js';

/** Options of {@link openTelemetryMetrics}. */
export interface OpenTelemetryMetricsOptions {
  /** Prefix of every instrument name; default `custos.`. */
  readonly prefix?: string;
}

/**
 * {@link MetricsHooks} that count with OpenTelemetry counters of `meter`:
 * `custos.jwt.verification_failures{reason}`, `custos.field.decrypt_failures{table,column}`,
 * `custos.secret_cache.lookups{result}` (`hit`, `miss`) and `custos.rotations{kind}`.
 * `@opentelemetry/api` is a peer dependency (only its types are used here: the meter is the
 * application's).
 *
 * @example
 * ```ts
 * import { metrics as otel } from '@opentelemetry/api';
 * const metrics = openTelemetryMetrics(otel.getMeter('my-app'));
 * const secrets = createSecrets({ providers, metrics });
 * ```
 */
export function openTelemetryMetrics(
  meter: Meter,
  options: OpenTelemetryMetricsOptions = {},
): MetricsHooks {
  const prefix = options.prefix ?? 'custos.';
  const jwt = meter.createCounter(`${prefix}jwt.verification_failures`, {
    description: 'JWTs refused, by reason',
  });
  const fields = meter.createCounter(`${prefix}field.decrypt_failures`, {
    description: 'Encrypted field values that failed authentication, by table and column',
  });
  const cache = meter.createCounter(`${prefix}secret_cache.lookups`, {
    description:
      'Secret lookups, by result (hit: served from the cache, miss: read from a provider)',
  });
  const rotations = meter.createCounter(`${prefix}rotations`, {
    description: 'Rotations, by kind (keyring_key, jwt_keys, secret_value)',
  });
  return {
    jwtVerificationFailed: (reason) => jwt.add(1, { reason }),
    fieldDecryptFailed: (table, column) => fields.add(1, { table, column }),
    secretCacheHit: () => cache.add(1, { result: 'hit' }),
    secretCacheMiss: () => cache.add(1, { result: 'miss' }),
    rotation: (kind) => rotations.add(1, { kind }),
  };
}
