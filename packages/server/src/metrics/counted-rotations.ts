import { observedRotations } from '../rotation/observed-rotations.js';
import type { RotationEngine, RotationResult } from '../rotation/rotation-engine.js';
import type { ServerMetrics } from './server-metrics.js';

/** The results that are rotations that ran (a plan or a skip is not counted). */
const COUNTED: ReadonlySet<RotationResult['result']> = new Set([
  'succeeded',
  'rolled_back',
  'failed',
]);

/**
 * The rotation engine, counting the result of every rotation that ran (by a request, by the
 * scheduler, or resumed after a crash) as `custos_rotations_total{result}`.
 *
 * @example
 * ```ts
 * const engine = countedRotations(publishingRotations(createRotationEngine(deps), events), metrics);
 * ```
 */
export function countedRotations(
  engine: RotationEngine,
  metrics: Pick<ServerMetrics, 'rotation'>,
): RotationEngine {
  return observedRotations(engine, (result) => {
    if (COUNTED.has(result.result)) metrics.rotation(result.result);
  });
}
