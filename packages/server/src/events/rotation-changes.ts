import { observedRotations } from '../rotation/observed-rotations.js';
import type { RotationEngine } from '../rotation/rotation-engine.js';
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
  return observedRotations(engine, async (result) => {
    if (result.result !== 'succeeded') return;
    // Its mount by the mount table (the longest mount path: `teams/a/kv/`), whose read rule
    // decides who sees the event. A name no KV version 2 mount holds any more (disabled since)
    // is nobody's to see; nor is one the table could not be read for (the rotation itself
    // succeeded: a client that misses the event refreshes at its cache TTL).
    let ref: { readonly mount: string; readonly key: string };
    try {
      ref = await engine.refOf(result.secret);
    } catch {
      return;
    }
    events.publish({ mount: ref.mount, engine: 'kv-2', key: ref.key, kind: 'rotation' });
  });
}
