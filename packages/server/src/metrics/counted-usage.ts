import type { UsageLog } from '../transit/usage-log.js';
import type { ServerMetrics } from './server-metrics.js';

/**
 * The transit usage log with every entry also counted as a transit operation (by key,
 * operation and outcome): the one place every key operation is recorded (transit's routes and
 * the KMS API's). The log's other members are the log's own.
 *
 * @example
 * ```ts
 * const recorder = createUsageRecorder({ transit, usage: countedUsage(usage, metrics) });
 * ```
 */
export function countedUsage<U extends Pick<UsageLog, 'record'>>(
  usage: U,
  metrics: Pick<ServerMetrics, 'transitOperation'>,
): U {
  return {
    ...usage,
    record(name: string, entry: Parameters<UsageLog['record']>[1]) {
      metrics.transitOperation(name, entry.operation, entry.success);
      usage.record(name, entry);
    },
  };
}
