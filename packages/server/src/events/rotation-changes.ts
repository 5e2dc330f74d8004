import type { RotationEngine, RotationResult } from '../rotation/rotation-engine.js';
import { refOfSecret } from '../rotation/rotation-engine.js';
import type { ChangeEvents } from './change-events.js';

/**
 * The rotation engine, publishing a `rotation` change event for each rotation that finished
 * (its `current` label moved), by a request or by the scheduler. Rotations name KV version 2
 * secrets only.
 *
 * @example
 * ```ts
 * const engine = publishingRotations(createRotationEngine(deps), events);
 * ```
 */
export function publishingRotations(engine: RotationEngine, events: ChangeEvents): RotationEngine {
  const announce = (result: RotationResult | undefined) => {
    if (result?.result !== 'succeeded') return;
    const { mount, key } = refOfSecret(result.secret);
    events.publish({ mount, engine: 'kv-2', key, kind: 'rotation' });
  };
  return {
    async rotate(ref, options) {
      const result = await engine.rotate(ref, options);
      if (options.dryRun !== true) announce(result);
      return result;
    },
    async resume(secret) {
      const result = await engine.resume(secret);
      announce(result);
      return result;
    },
    async resumeAll(staleMs) {
      const results = await engine.resumeAll(staleMs);
      for (const result of results) announce(result);
      return results;
    },
    retireDue: (nowMs) => engine.retireDue(nowMs),
    // The current version does not change: nothing to announce.
    continueFinish: (secret) => engine.continueFinish(secret),
  };
}
