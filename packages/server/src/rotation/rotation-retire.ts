import { PREVIOUS_LABEL, removeLabel } from '../kv/kv-labels.js';
import type { EngineParts } from './rotation-engine-parts.js';
import type { RotationRun } from './rotation-store.js';
import { scrubValues } from './scrub-values.js';

/** Retiring the value a rotation replaced (rotation/NOTES.md, "Grace and retirement"). */
export interface Retirement {
  /**
   * Retires the value `run` replaced: the rotator's retire, then its `previous` label goes.
   * Never before the run's background work succeeded (a rewrap still moving ciphertexts off
   * the old key version), nor after it was abandoned: false then, and nothing is done.
   */
  retire(secret: string, run: RotationRun): Promise<boolean>;
  /** Retires every `previous` value whose grace period ended at `nowMs`; the secrets retired. */
  retireDue(nowMs: number): Promise<string[]>;
}

/**
 * Creates the engine's retirement.
 *
 * @example
 * ```ts
 * const { retire, retireDue } = createRetirement(parts);
 * await retireDue(Date.now());
 * ```
 */
export function createRetirement(parts: EngineParts): Retirement {
  const { store } = parts;

  /** Whether `run`'s background work (if it has any) has not succeeded yet. */
  const backgroundOpen = async (run: Pick<RotationRun, 'id' | 'secret'>) => {
    const job = await store.readJob(run.secret);
    return job !== undefined && job.rotation_id === run.id && job.state !== 'done';
  };

  const retire = async (secret: string, run: RotationRun): Promise<boolean> => {
    // An abandoned rewrap left ciphertexts under the old value: the operator retires it.
    if (run.abandoned !== undefined || (await backgroundOpen(run))) return false;
    const policy = await store.readPolicy(secret);
    const { ref, kv } = await parts.resolve(secret);
    if (run.from_version > 0) {
      const previous = await parts.dataOf(kv, ref.key, run.from_version);
      const current = (await parts.dataOf(kv, ref.key, run.pending_version)) ?? {};
      if (policy !== undefined && previous !== undefined) {
        const rotator = parts.rotatorOf(policy);
        await parts.audited(run, 'retire', async () => {
          try {
            await rotator.retire?.({
              ...(await parts.contextOf(run, policy, current)),
              previous,
            });
          } catch (err) {
            throw new Error(scrubValues(err, [previous, current]));
          }
        });
      }
      await kv.patchMetadata(ref.key, (m) => removeLabel(m, PREVIOUS_LABEL, run.from_version));
    }
    run.retired = true;
    await store.saveRun(run);
    await store.appendHistory(run);
    return true;
  };

  return {
    retire,
    async retireDue(nowMs) {
      const retired: string[] = [];
      for (const secret of await store.listRuns()) {
        const run = await store.readRun(secret);
        if (
          run === undefined ||
          run.state !== 'succeeded' ||
          run.retired === true ||
          run.retire_after === undefined ||
          Date.parse(run.retire_after) > nowMs
        )
          continue;
        if (await retire(secret, run)) retired.push(secret);
      }
      return retired;
    },
  };
}
