import { observedRotations } from '../rotation/observed-rotations.js';
import type { RotationEngine } from '../rotation/rotation-engine.js';
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
  return observedRotations(engine, (result) => {
    if (result.result !== 'succeeded') return;
    const { mount, key } = refOfSecret(result.secret);
    events.publish({ mount, engine: 'kv-2', key, kind: 'rotation' });
  });
}
