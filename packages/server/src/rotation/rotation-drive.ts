import { CustosError } from '@custos/core/errors';
import { ServerError } from '../errors.js';
import type { EngineParts } from './rotation-engine-parts.js';
import type { RotationPolicy } from './rotation-policy.js';
import { createRotationSteps } from './rotation-steps.js';
import type { RotationRun, RotationStep } from './rotation-store.js';
import type { RotationResult } from './rotation-types.js';
import type { PendingContext } from './rotator.js';
import { scrubValues } from './scrub-values.js';

const STEP_AFTER: Readonly<Record<Exclude<RotationStep, 'rollback'>, RotationStep | undefined>> = {
  create: 'set',
  set: 'test',
  test: 'finish',
  finish: undefined,
};

/** What driving a run needs besides the shared parts. */
export interface DriverDeps {
  /** Starts the secret's background job here, without waiting for it (false: not claimed). */
  startBackground(secret: string): Promise<boolean>;
  /** Retires the value `run` replaced (grace period 0). */
  retire(secret: string, run: RotationRun): Promise<boolean>;
}

/** Drives running runs on this engine (rotation/NOTES.md, "The state machine", "Leases"). */
export interface RunDriver {
  /** The secrets whose runs this engine drives (or is about to): reserved before a claim. */
  readonly driving: Set<string>;
  /**
   * Drives a run this engine holds (and reserved in `driving`) until it ends, renewing its lease
   * meanwhile. The steps' signal fires when the lease is lost or `stop` is called; nothing is
   * saved after that and the drive ends in `ERR_ROTATION_IN_PROGRESS`.
   */
  drive(run: RotationRun, policy: RotationPolicy): Promise<RotationResult>;
  /**
   * A signal for work outside a drive that must stop with this node (a continued finish), and
   * the function that ends its registration.
   */
  track(): { signal: AbortSignal; done: () => void };
  /** Aborts every drive (seal, shutdown) and waits for them to end. */
  stop(): Promise<void>;
}

/**
 * Creates the driver of the engine's runs.
 *
 * @example
 * ```ts
 * const driver = createRunDriver(parts, { startBackground, retire });
 * driver.driving.add(run.secret);
 * const result = await driver.drive(run, policy);
 * ```
 */
export function createRunDriver(parts: EngineParts, deps: DriverDeps): RunDriver {
  const { store, owner, runLeaseMs } = parts;
  const clock = parts.deps.clock;
  const steps = createRotationSteps({ store, clock });
  const driving = new Set<string>();
  const active = new Map<AbortController, Promise<unknown>>();

  const lost = (secret: string, why: string) =>
    new ServerError('ERR_ROTATION_IN_PROGRESS', `the rotation of ${secret} stopped here: ${why}`);

  /** Throws the signal's reason when it fired: nothing more is saved by this node. */
  const checkHeld = (signal: AbortSignal) => {
    if (signal.aborted) throw signal.reason;
  };

  const drive = async (run: RotationRun, policy: RotationPolicy): Promise<RotationResult> => {
    const abort = new AbortController();
    let leaseUntil = run.lease_until_ms ?? 0;
    let ending = false;
    // A renewal that finds the run no longer this node's (taken over, moved, removed) aborts
    // the step; one that fails (a storage hiccup) is tried again at the next, unless the lease
    // ran out meanwhile: another node may hold the run now.
    const renew = () => {
      const until = clock() + runLeaseMs;
      void store.renewRun(run.secret, run.id, owner, until).then(
        (held) => {
          if (ending) return;
          if (held) leaseUntil = Math.max(leaseUntil, until);
          else abort.abort(lost(run.secret, 'another node holds it, or it was moved or removed'));
        },
        () => {
          if (!ending && clock() >= leaseUntil)
            abort.abort(lost(run.secret, 'its lease ran out while renewals failed'));
        },
      );
    };
    const renewal = setInterval(renew, Math.max(10, Math.floor(runLeaseMs / 3)));
    renewal.unref();
    const work = (async () => {
      try {
        return await driveSteps(run, policy, abort.signal, {
          saved: (until) => {
            leaseUntil = Math.max(leaseUntil, until);
          },
          ending: () => {
            ending = true;
            clearInterval(renewal);
          },
        });
      } finally {
        clearInterval(renewal);
        driving.delete(run.secret);
        // A drive that ends with the run still running gives its lease up (a lost lease is no
        // longer this node's: the release finds another owner and changes nothing).
        if (run.state === 'running')
          await store.releaseRun(run.secret, run.id, owner).catch(() => {});
      }
    })();
    active.set(abort, work);
    try {
      return await work;
    } finally {
      active.delete(abort);
    }
  };

  /** Runs the steps from `run.step` until the run ends, persisting before each. */
  const driveSteps = async (
    run: RotationRun,
    policy: RotationPolicy,
    signal: AbortSignal,
    lease: { saved: (untilMs: number) => void; ending: () => void },
  ): Promise<RotationResult> => {
    const { ref, kv } = await parts.resolve(run.secret);
    const rotator = parts.rotatorOf(policy);
    const known: Record<string, unknown>[] = [];
    const fail = (err: unknown) => scrubValues(err, known);
    const save = async () => {
      checkHeld(signal);
      await store.saveRun(run);
    };

    while (run.state === 'running') {
      run.saved_ms = clock();
      run.lease_until_ms = run.saved_ms + runLeaseMs;
      await save();
      lease.saved(run.lease_until_ms);
      await parts.deps.beforeStep?.(run.step, run);
      const step = run.step;
      const current = (await parts.dataOf(kv, ref.key, run.from_version)) ?? {};
      known.push(current);
      const context = await parts.contextOf(run, policy, current, signal);
      const pendingContext = async (): Promise<PendingContext> => {
        const pending = await parts.dataOf(kv, ref.key, run.pending_version);
        if (pending === undefined || run.pending_version === undefined)
          throw new CustosError('ERR_NOT_FOUND', 'the pending version is gone');
        known.push(pending);
        return { ...context, pending };
      };
      try {
        await parts.audited(run, step, async () => {
          switch (step) {
            case 'create':
              run.pending_version = await steps.create(kv, ref.key, run, rotator, context);
              return;
            case 'set':
              return rotator.set(await pendingContext());
            case 'test':
              return rotator.test(await pendingContext());
            case 'finish':
              return steps.finish(kv, ref.key, run, policy, rotator, await pendingContext());
            case 'rollback':
              return steps.rollback(kv, ref.key, run, rotator, pendingContext);
          }
        });
        checkHeld(signal);
        run.steps.push({ step, result: 'ok', time: parts.nowIso() });
        if (step === 'rollback') {
          run.state = 'rolled_back';
        } else {
          const next = STEP_AFTER[step];
          if (next === undefined) run.state = 'succeeded';
          else run.step = next;
        }
      } catch (err) {
        // Stopped (lease lost, node stopping): whatever the step did, it is the next holder's
        // to run again; this node records nothing of it.
        checkHeld(signal);
        const message = fail(err);
        run.steps.push({ step, result: 'failed', time: parts.nowIso(), error: message });
        if (step === 'rollback') {
          // Stays running: the next resume retries the rollback. Nothing new starts meanwhile.
          run.error = message;
          await save();
          return parts.resultOf(run, 'failed');
        }
        if (step === 'finish' && run.new_fingerprint !== undefined) {
          // The labels moved: the new value is current. The rotator's own finish failed.
          run.error = message;
          run.state = 'succeeded';
        } else {
          run.error = message;
          run.step = 'rollback';
        }
      }
    }
    run.ended_time = parts.nowIso();
    checkHeld(signal);
    // The last save is owner-checked: a lease lost from here on refuses it.
    lease.ending();
    await store.saveRun(run);
    await store.appendHistory(run);
    if (run.state === 'succeeded' && rotator.background !== undefined) {
      // Started here without waiting (the answer returns now); a leader takes it up otherwise.
      await deps.startBackground(run.secret).catch(() => false);
      const job = await store.readJob(run.secret);
      return { ...parts.resultOf(run, run.state), ...(job ? { background: job.state } : {}) };
    }
    if (run.state === 'succeeded' && policy.grace_period === 0) {
      try {
        await deps.retire(run.secret, run);
      } catch (err) {
        // The rotation itself succeeded; the scheduler retries the retirement (retireDue).
        run.error = `retiring the previous value failed: ${fail(err)}`;
        await store.saveRun(run);
      }
    }
    return parts.resultOf(run, run.state);
  };

  return {
    driving,
    drive,
    track() {
      const abort = new AbortController();
      let finish = () => {};
      active.set(
        abort,
        new Promise<void>((r) => {
          finish = r;
        }),
      );
      return {
        signal: abort.signal,
        done: () => {
          active.delete(abort);
          finish();
        },
      };
    },
    async stop() {
      for (const abort of active.keys())
        abort.abort(new ServerError('ERR_ROTATION_IN_PROGRESS', 'the node is stopping'));
      await Promise.allSettled([...active.values()]);
    },
  };
}
