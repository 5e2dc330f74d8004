import type { RotationEngine, RotationResult } from './rotation-engine.js';

/**
 * The rotation engine, telling `observe` the result of every rotation that ran — by a request,
 * by the scheduler, or resumed after a crash (dry runs and a resumed finish are not new
 * rotations). What observes (change events, metrics) stays out of the engine.
 *
 * @example
 * ```ts
 * const engine = observedRotations(createRotationEngine(deps), (result) => log(result));
 * ```
 */
export function observedRotations(
  engine: RotationEngine,
  observe: (result: RotationResult) => void | Promise<void>,
): RotationEngine {
  const seen = async (result: RotationResult | undefined) => {
    if (result !== undefined) await observe(result);
  };
  return {
    async rotate(ref, options) {
      const result = await engine.rotate(ref, options);
      if (options.dryRun !== true) await seen(result);
      return result;
    },
    async resume(secret) {
      const result = await engine.resume(secret);
      await seen(result);
      return result;
    },
    async resumeAll(staleMs) {
      const results = await engine.resumeAll(staleMs);
      for (const result of results) await seen(result);
      return results;
    },
    retireDue: (nowMs) => engine.retireDue(nowMs),
    continueFinish: (secret) => engine.continueFinish(secret),
    refOf: (secret) => engine.refOf(secret),
    startBackground: () => engine.startBackground(),
    abandonBackground: (secret, request) => engine.abandonBackground(secret, request),
    backgroundIdle: () => engine.backgroundIdle(),
    stopBackground: () => engine.stopBackground(),
  };
}
