import { randomUUID } from 'node:crypto';
import type { BackgroundJob } from './background-jobs.js';
import { type BackgroundRunner, createBackgroundRunner } from './background-runner.js';
import type { RotationPolicy } from './rotation-policy.js';
import type { RotationRun, RotationStore } from './rotation-store.js';
import type { RotationContext, RotatorRegistry } from './rotator.js';
import { scrubValues } from './scrub-values.js';

/** What the engine lends its background work (rotation-engine.ts). */
export interface EngineBackgroundDeps {
  readonly store: RotationStore;
  readonly rotators: RotatorRegistry;
  readonly clock: () => number;
  readonly leaseMs: number;
  /** The data of a version of a secret (`<mount>/<key>`); undefined when it is gone. */
  readData(
    secret: string,
    version: number | undefined,
  ): Promise<Record<string, unknown> | undefined>;
  contextOf(
    run: Pick<RotationRun, 'id' | 'secret'>,
    policy: Pick<RotationPolicy, 'settings' | 'grace_period'>,
    current: Record<string, unknown>,
  ): Promise<RotationContext>;
  /** Runs `work` as an audited step of `run`. */
  audited<T>(run: RotationRun, step: string, work: () => Promise<T>): Promise<T>;
  /** Retires the value `run` replaced (false while its background work is open). */
  retire(secret: string, run: RotationRun): Promise<boolean>;
}

/**
 * The engine's background runner (rotation/NOTES.md, "Background work"): runs a job's
 * `rotator.background` with the data of the run it belongs to and the settings recorded with
 * the job, audited as a `background` step, its error scrubbed of the values; appends each
 * attempt to the run's history before the job is marked ended; retires the old value once the
 * work is done if its grace period ended meanwhile.
 *
 * @example
 * ```ts
 * const runner = createEngineBackground({ store, rotators, clock, leaseMs, readData, contextOf, audited, retire });
 * await runner.start('secret/keys/orders');
 * ```
 */
export function createEngineBackground(deps: EngineBackgroundDeps): BackgroundRunner {
  const { store } = deps;
  const nowIso = () => new Date(deps.clock()).toISOString();

  /** The run a job belongs to: the secret's run, or its history entry. */
  const runOfJob = async (job: BackgroundJob): Promise<RotationRun | undefined> => {
    const run = await store.readRun(job.secret);
    if (run?.id === job.rotation_id) return run;
    return (await store.history(job.secret)).find((r) => r.id === job.rotation_id);
  };

  return createBackgroundRunner({
    store,
    clock: deps.clock,
    owner: randomUUID(),
    leaseMs: deps.leaseMs,
    describe: (err) => (err instanceof Error ? err.message : String(err)),
    async work(job, signal) {
      const run = await runOfJob(job);
      if (run === undefined) throw new Error('the rotation the job belongs to is gone');
      if (run.state === 'running') throw new Error('the rotation has not ended yet');
      if (run.state === 'rolled_back') return; // the new value never became current
      const rotator = deps.rotators.get(job.rotator);
      if (rotator?.background === undefined)
        throw new Error(`rotator ${job.rotator} is not available on this server`);
      const current = (await deps.readData(job.secret, run.from_version)) ?? {};
      const pending = await deps.readData(job.secret, run.pending_version);
      if (pending === undefined) throw new Error('the version the rotation made current is gone');
      const policy = { settings: job.settings, grace_period: job.grace_period };
      const context = { ...(await deps.contextOf(run, policy, current)), pending, signal };
      signal.throwIfAborted();
      try {
        await deps.audited(
          run,
          'background',
          () => rotator.background?.(context) ?? Promise.resolve(),
        );
      } catch (err) {
        throw new Error(scrubValues(err, [current, pending]));
      }
    },
    async record(job, outcome) {
      const run = await runOfJob(job);
      if (run === undefined) return;
      const updated: RotationRun = {
        ...run,
        steps: [
          ...run.steps,
          outcome.ok
            ? { step: 'background', result: 'ok', time: nowIso() }
            : { step: 'background', result: 'failed', time: nowIso(), error: outcome.error },
        ],
      };
      if ((await store.readRun(job.secret))?.id === run.id) await store.saveRun(updated);
      await store.appendHistory(updated);
    },
    async done(job) {
      // Retirement waited for the work: a grace period that ended meanwhile ends now.
      const run = await runOfJob(job);
      if (
        run?.state === 'succeeded' &&
        run.retired !== true &&
        run.retire_after !== undefined &&
        Date.parse(run.retire_after) <= deps.clock()
      )
        await deps.retire(job.secret, run);
    },
  });
}
