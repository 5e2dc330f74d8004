import type { UsageLog } from '../transit/usage-log.js';
import type { ServerMetrics } from './server-metrics.js';

/**
 * The transit usage log with every entry also counted as a transit operation (by key,
 * operation and outcome): the one place every key operation is recorded.
 *
 * @example
 * ```ts
 * const recorder = createUsageRecorder({ transit, usage: countedUsage(usage, metrics) });
 * ```
 */
export function countedUsage(
  usage: Pick<UsageLog, 'record'>,
  metrics: Pick<ServerMetrics, 'transitOperation'>,
): Pick<UsageLog, 'record'> {
  return {
    record(name, entry) {
      metrics.transitOperation(name, entry.operation, entry.success);
      usage.record(name, entry);
    },
  };
}
