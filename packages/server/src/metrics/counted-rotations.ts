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
  const count = (result: RotationResult | undefined) => {
    if (result !== undefined && COUNTED.has(result.result)) metrics.rotation(result.result);
  };
  return {
    async rotate(ref, options) {
      const result = await engine.rotate(ref, options);
      count(result);
      return result;
    },
    async resume(secret) {
      const result = await engine.resume(secret);
      count(result);
      return result;
    },
    async resumeAll(staleMs) {
      const results = await engine.resumeAll(staleMs);
      for (const result of results) count(result);
      return results;
    },
    retireDue: (nowMs) => engine.retireDue(nowMs),
    // Finishing a rotation already counted (its rewrap resumed) is no new rotation.
    continueFinish: (secret) => engine.continueFinish(secret),
  };
}
