import type { ServerMetrics, ServerStateSources } from '../metrics/server-metrics.js';
import type { AlertSignal } from './alert-evaluator.js';

/**
 * The server's metrics, also telling `observe` each event the alert rules watch: the events
 * are detected once, where they are counted. `watch` hands the state sources (seal, overdue
 * rotations) to `onSources` as well, for the periodic checks.
 *
 * @example
 * ```ts
 * const metrics = alertingMetrics(createServerMetrics(), evaluator.observe, (s) => (sources = s));
 * metrics.authenticationFailed('bad_token'); // counted, and an auth_failure signal
 * ```
 */
export function alertingMetrics(
  metrics: ServerMetrics,
  observe: (signal: AlertSignal) => void,
  onSources: (sources: ServerStateSources) => void,
): ServerMetrics {
  return {
    ...metrics,
    authenticationFailed(reason) {
      metrics.authenticationFailed(reason);
      observe({ kind: 'auth_failure', reason });
    },
    integrityFailed(source) {
      metrics.integrityFailed(source);
      observe({ kind: 'decryption_failure', source });
    },
    auditSinkFailed(sink) {
      metrics.auditSinkFailed(sink);
      observe({ kind: 'audit_sink_failed', sink });
    },
    rotation(result) {
      metrics.rotation(result);
      observe({ kind: 'rotation', result });
    },
    watch(sources) {
      metrics.watch(sources);
      onSources(sources);
    },
  };
}
