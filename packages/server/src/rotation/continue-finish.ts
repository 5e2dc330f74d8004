import { CustosError } from '@custos/core/errors';
import { ServerError } from '../errors.js';
import { claimable, jobEnded } from './background-jobs.js';
import type { BackgroundRunner } from './background-runner.js';
import type { RunDriver } from './rotation-drive.js';
import type { EngineParts } from './rotation-engine-parts.js';
import type { RotationRun } from './rotation-store.js';
import type { RotationResult } from './rotation-types.js';
import type { PendingContext } from './rotator.js';
import { scrubValues } from './scrub-values.js';

/**
 * Creates `continueFinish` (rotation/NOTES.md, "Continuing"): for the secret's last succeeded
 * rotation, takes up its background job when it is not done (refused while a live node holds
 * it), else runs the rotator's finish again when it failed; the history entry (same key) gets
 * the step.
 *
 * @example
 * ```ts
 * const continueFinish = createContinueFinish(parts, runner, driver);
 * await continueFinish('secret/keys/orders');
 * ```
 */
export function createContinueFinish(
  parts: EngineParts,
  runner: Pick<BackgroundRunner, 'start'>,
  driver: Pick<RunDriver, 'track'>,
): (secret: string) => Promise<RotationResult> {
  const { store } = parts;
  return async (secret) => {
    const policy = await store.readPolicy(secret);
    if (policy === undefined)
      throw new CustosError('ERR_NOT_FOUND', `no rotation policy for ${secret}`);
    const last = [...(await store.history(secret))].reverse().find((r) => r.state === 'succeeded');
    const job = await store.readJob(secret);
    if (last !== undefined && job?.rotation_id === last.id && !jobEnded(job)) {
      // The background work (a rewrap): taken up now, in the background, whatever its retry
      // time; refused while a live node holds it.
      if (!claimable(job, parts.deps.clock(), true) || !(await runner.start(secret, true)))
        throw new ServerError(
          'ERR_ROTATION_IN_PROGRESS',
          `the background work of the last rotation of ${secret} is running on a node: follow it with custos rotation history ${secret}`,
        );
      return { ...parts.resultOf(last, 'succeeded'), background: 'running' };
    }
    if (last === undefined || last.error === undefined)
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        `the last rotation of ${secret} finished completely: nothing to continue`,
      );
    const rotator = parts.rotatorOf(policy);
    if (rotator.name !== last.rotator)
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        `the policy now names rotator ${rotator.name}, not ${last.rotator} that rotated: rotate again`,
      );
    const { ref, kv } = await parts.resolve(secret);
    const current = (await parts.dataOf(kv, ref.key, last.from_version)) ?? {};
    const pending = await parts.dataOf(kv, ref.key, last.pending_version);
    if (pending === undefined)
      throw new CustosError('ERR_NOT_FOUND', 'the version the rotation made current is gone');
    const tracked = driver.track();
    try {
      const context: PendingContext = {
        ...(await parts.contextOf(last, policy, current, tracked.signal)),
        pending,
      };
      const run: RotationRun = { ...last, steps: [...last.steps] };
      try {
        await parts.audited(run, 'finish', async () => {
          await rotator.finish?.(context);
        });
        run.steps.push({ step: 'finish', result: 'ok', time: parts.nowIso() });
        delete run.error;
      } catch (err) {
        if (tracked.signal.aborted) throw tracked.signal.reason; // the node stops: nothing saved
        const message = scrubValues(err, [current, pending]);
        run.steps.push({ step: 'finish', result: 'failed', time: parts.nowIso(), error: message });
        run.error = message;
      }
      await store.appendHistory(run);
      return parts.resultOf(run, 'succeeded');
    } finally {
      tracked.done();
    }
  };
}
