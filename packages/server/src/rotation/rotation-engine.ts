import { randomUUID } from 'node:crypto';
import { CustosError } from '@custos/core/errors';
import type { AuditBroker } from '../audit/audit-broker.js';
import { isServerError, ServerError } from '../errors.js';
import type { KvEngine } from '../kv/kv-engine.js';
import { PREVIOUS_LABEL, removeLabel } from '../kv/kv-labels.js';
import { versionOfStage } from '../kv/kv-stages.js';
import { claimable, jobEnded } from './background-jobs.js';
import { type AbandonRequest, abandonBackground } from './rotation-abandon.js';
import { createEngineBackground } from './rotation-background-work.js';
import type { RotationPolicy } from './rotation-policy.js';
import { createRotationSteps } from './rotation-steps.js';
import type { RotationRun, RotationStep, RotationStore } from './rotation-store.js';
import type { ResolvedSecret } from './rotation-target.js';
import type { RotateOptions, RotationResult, SecretRef } from './rotation-types.js';
import { secretName } from './rotation-types.js';
import type { PendingContext, RotationContext, Rotator, RotatorRegistry } from './rotator.js';
import { runLeaseEnded } from './run-lease.js';
import { scrubValues } from './scrub-values.js';

export {
  type RotateOptions,
  type RotationResult,
  type SecretRef,
  secretName,
} from './rotation-types.js';

/** What the engine is given. */
export interface RotationEngineDeps {
  readonly store: RotationStore;
  /**
   * The secret a stored name (`teams/a/kv/app/db`) names in the mount table in force (its mount
   * is the longest mount path the name starts with: `kvSecrets`) and the KV engine serving
   * it; undefined when no KV version 2 mount holds it.
   */
  secretOf(secret: string): Promise<ResolvedSecret | undefined>;
  readonly rotators: RotatorRegistry;
  readonly audit: Pick<AuditBroker, 'logRequest' | 'logResponse'>;
  readonly clock: () => number;
  /**
   * How long a node's claim on a background job holds without renewal (default 60 000 ms): a
   * node that dies holding one is replaced that long after its last renewal.
   */
  readonly backgroundLeaseMs?: number;
  /**
   * How long a node's claim on a running rotation holds without renewal (default 60 000 ms),
   * renewed every third of it while a step runs: another node resumes the run only after that
   * (rotation/NOTES.md, "Leases").
   */
  readonly runLeaseMs?: number;
  /**
   * Tests only: runs after a step was persisted as next and before it runs; throwing there is
   * a crash between two steps (the run stays as persisted).
   */
  readonly beforeStep?: (step: RotationStep, run: Readonly<RotationRun>) => Promise<void>;
}

/**
 * The rotation engine: runs the four steps of a rotation (create → set → test → finish) as a
 * state machine persisted before each step (rotation/NOTES.md), rolls back on a failed set or
 * test (`current` untouched), resumes runs a crash left, retires `previous` values whose grace
 * period ended, records each run in the secret's history and each step in the audit log.
 *
 * @example
 * ```ts
 * const result = await engine.rotate({ mount: 'secret', key: 'app/api' }, { by: accessor });
 * result.result; // 'succeeded'
 * ```
 */
export interface RotationEngine {
  /** Rotates now (whatever the schedule says), or plans it (`dryRun`). */
  rotate(ref: SecretRef, options: RotateOptions): Promise<RotationResult>;
  /**
   * The secret a stored name (`<mount>/<key>`) names, by the mount table in force (the longest
   * mount path it starts with, never its first segment); `ERR_INVALID_REQUEST` when no KV
   * version 2 mount holds it.
   */
  refOf(secret: string): Promise<SecretRef>;
  /**
   * Continues the run a crash left running for `secret` (`<mount>/<key>`); undefined when none,
   * or while a live node holds its lease.
   */
  resume(secret: string): Promise<RotationResult | undefined>;
  /**
   * Continues every run left running whose lease ended (its node died or gave it up); a run
   * saved without a lease (before leases) once it was not saved for `staleMs` (default 0).
   */
  resumeAll(staleMs?: number): Promise<RotationResult[]>;
  /** Retires every `previous` value whose grace period ended at `nowMs`; the secrets retired. */
  retireDue(nowMs: number): Promise<string[]>;
  /**
   * Runs the rotator's finish again for the secret's last rotation, when that rotation
   * succeeded but its finish failed (a `transit-key` rewrap cut short: it continues from the
   * saved progress). The history entry gets the new step; `error` goes once it succeeds.
   */
  continueFinish(secret: string): Promise<RotationResult>;
  /**
   * Takes up every background job that is due and not held by a live node (recorded and not
   * started, left by a node that died, failed and due for a retry), without waiting for them;
   * the secrets whose jobs started here. The scheduler's leader calls it on each tick.
   */
  startBackground(): Promise<string[]>;
  /**
   * Ends the background work of the secret's last rotation as abandoned (rotation-abandon.ts):
   * new rotations may start; the old value is never retired automatically. The run recorded.
   */
  abandonBackground(secret: string, request: AbandonRequest): Promise<RotationResult>;
  /** Resolves when every background job this engine runs has ended. */
  backgroundIdle(): Promise<void>;
  /** Stops this engine's background jobs (released for another node) and waits for them. */
  stopBackground(): Promise<void>;
}

const STEP_AFTER: Readonly<Record<Exclude<RotationStep, 'rollback'>, RotationStep | undefined>> = {
  create: 'set',
  set: 'test',
  test: 'finish',
  finish: undefined,
};

/** Creates the engine. */
export function createRotationEngine(deps: RotationEngineDeps): RotationEngine {
  const { store, rotators, audit } = deps;
  const nowIso = () => new Date(deps.clock()).toISOString();
  const leaseMs = deps.backgroundLeaseMs ?? 60_000;
  const runLeaseMs = deps.runLeaseMs ?? 60_000;
  /** This engine's name in run claims, and the secrets whose runs it drives now. */
  const owner = randomUUID();
  const driving = new Set<string>();
  const steps = createRotationSteps({ store, clock: deps.clock });

  /** The stored name `secret` resolved in the mount table in force (never by its first segment). */
  const resolve = async (secret: string): Promise<ResolvedSecret> => {
    const found = await deps.secretOf(secret);
    if (found === undefined)
      throw new CustosError('ERR_INVALID_REQUEST', `no KV version 2 mount holds ${secret}`);
    // Fail closed: a policy written for the secret of one mount never drives another mount's
    // secret that came to answer to the same name (rotation-policy.ts, `mount_uuid`).
    const written = (await store.readPolicy(secret))?.mount_uuid;
    if (written !== undefined && written !== found.mountUuid)
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        `${secret} is on another mount than the one its rotation policy was written for: write the policy again to rotate it`,
      );
    return found;
  };

  const rotatorOf = (policy: RotationPolicy): Rotator => {
    const rotator = rotators.get(policy.rotator);
    if (rotator === undefined)
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        `rotator ${policy.rotator} is not available on this server (available: ${rotators.names().join(', ')})`,
      );
    return rotator;
  };

  const dataOf = async (kv: KvEngine, key: string, version: number | undefined) => {
    if (version === undefined || version === 0) return {};
    const found = await kv.read(key, version);
    return found.kind === 'ok' ? found.data : undefined;
  };

  const contextOf = async (
    run: Pick<RotationRun, 'id' | 'secret'>,
    policy: Pick<RotationPolicy, 'settings' | 'grace_period'>,
    current: Record<string, unknown>,
  ): Promise<RotationContext> => {
    const { ref, kv } = await resolve(run.secret);
    return {
      rotationId: run.id,
      secret: ref,
      settings: policy.settings,
      gracePeriodSeconds: policy.grace_period,
      now: deps.clock(),
      current,
      readSecret: async (key) => {
        const found = await kv.read(key);
        return found.kind === 'ok' ? found.data : undefined;
      },
    };
  };

  /** Writes one step to the audit log: the request before it runs, the outcome after. */
  const audited = async <T>(run: RotationRun, step: string, work: () => Promise<T>): Promise<T> => {
    const record = await audit.logRequest({
      id: `${run.id}/${step}`,
      operation: 'update',
      path: `sys/rotation-step/${run.secret}`,
      remoteAddress: '',
      token: undefined,
      entry: undefined,
      data: {
        rotation_id: run.id,
        step,
        by: run.by,
        ...(run.reason ? { reason: run.reason } : {}),
        ...(run.approved_by === undefined ? {} : { approved_by: run.approved_by }),
      },
    });
    try {
      const result = await work();
      await audit.logResponse(record, 200, { data: { rotation_id: run.id, step, result: 'ok' } });
      return result;
    } catch (err) {
      await audit.logResponse(record, 500, {
        data: { rotation_id: run.id, step, result: 'failed' },
      });
      throw err;
    }
  };

  /**
   * Drives a run this engine holds (and reserved in `driving`), renewing its lease meanwhile;
   * a drive that ends with the run still running releases the lease for any node to resume.
   */
  const drive = async (run: RotationRun, policy: RotationPolicy): Promise<RotationResult> => {
    // A renewal that fails (a storage hiccup) is tried again at the next one; a run another
    // node took over is not renewed, and this node's next save of it is refused.
    const renew = () =>
      void store.renewRun(run.secret, run.id, owner, deps.clock() + runLeaseMs).catch(() => {});
    const renewal = setInterval(renew, Math.max(10, Math.floor(runLeaseMs / 3)));
    renewal.unref();
    try {
      return await driveSteps(run, policy);
    } finally {
      clearInterval(renewal);
      driving.delete(run.secret);
      if (run.state === 'running')
        await store.releaseRun(run.secret, run.id, owner).catch(() => {});
    }
  };

  /** Runs the steps from `run.step` until the run ends, persisting before each. */
  const driveSteps = async (run: RotationRun, policy: RotationPolicy): Promise<RotationResult> => {
    const { ref, kv } = await resolve(run.secret);
    const rotator = rotatorOf(policy);
    const known: Record<string, unknown>[] = [];
    const fail = (err: unknown) => scrubValues(err, known);

    while (run.state === 'running') {
      run.saved_ms = deps.clock();
      run.lease_until_ms = run.saved_ms + runLeaseMs;
      await store.saveRun(run);
      await deps.beforeStep?.(run.step, run);
      const step = run.step;
      const current = (await dataOf(kv, ref.key, run.from_version)) ?? {};
      known.push(current);
      const context = await contextOf(run, policy, current);
      const pendingContext = async (): Promise<PendingContext> => {
        const pending = await dataOf(kv, ref.key, run.pending_version);
        if (pending === undefined || run.pending_version === undefined)
          throw new CustosError('ERR_NOT_FOUND', 'the pending version is gone');
        known.push(pending);
        return { ...context, pending };
      };
      try {
        await audited(run, step, async () => {
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
        run.steps.push({ step, result: 'ok', time: nowIso() });
        if (step === 'rollback') {
          run.state = 'rolled_back';
        } else {
          const next = STEP_AFTER[step];
          if (next === undefined) run.state = 'succeeded';
          else run.step = next;
        }
      } catch (err) {
        const message = fail(err);
        run.steps.push({ step, result: 'failed', time: nowIso(), error: message });
        if (step === 'rollback') {
          // Stays running: the next resume retries the rollback. Nothing new starts meanwhile.
          run.error = message;
          await store.saveRun(run);
          return resultOf(run, 'failed');
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
    run.ended_time = nowIso();
    await store.saveRun(run);
    await store.appendHistory(run);
    if (run.state === 'succeeded' && rotator.background !== undefined) {
      // Started here without waiting (the answer returns now); a leader takes it up otherwise.
      await runner.start(run.secret).catch(() => false);
      const job = await store.readJob(run.secret);
      return { ...resultOf(run, run.state), ...(job ? { background: job.state } : {}) };
    }
    if (run.state === 'succeeded' && policy.grace_period === 0) {
      try {
        await retire(run.secret, run);
      } catch (err) {
        // The rotation itself succeeded; the scheduler retries the retirement (retireDue).
        run.error = `retiring the previous value failed: ${fail(err)}`;
        await store.saveRun(run);
      }
    }
    return resultOf(run, run.state);
  };

  const resultOf = (run: RotationRun, result: RotationResult['result']): RotationResult => ({
    id: run.id,
    secret: run.secret,
    result,
    steps: run.steps,
    ...(run.error === undefined ? {} : { error: run.error }),
    from_version: run.from_version,
    ...(run.pending_version === undefined || result !== 'succeeded'
      ? {}
      : { new_version: run.pending_version }),
    ...(run.new_fingerprint === undefined ? {} : { new_fingerprint: run.new_fingerprint }),
    ...(run.retire_after === undefined ? {} : { retire_after: run.retire_after }),
  });

  /** Whether `run`'s background work (if it has any) has not succeeded yet. */
  const backgroundOpen = async (run: Pick<RotationRun, 'id' | 'secret'>) => {
    const job = await store.readJob(run.secret);
    return job !== undefined && job.rotation_id === run.id && job.state !== 'done';
  };

  /**
   * Retires the value `run` replaced: the rotator's retire, then its `previous` label goes.
   * Never before the run's background work succeeded (a rewrap still moving ciphertexts off
   * the old key version): false then, and nothing is done.
   */
  const retire = async (secret: string, run: RotationRun): Promise<boolean> => {
    // An abandoned rewrap left ciphertexts under the old value: the operator retires it.
    if (run.abandoned !== undefined || (await backgroundOpen(run))) return false;
    const policy = await store.readPolicy(secret);
    const { ref, kv } = await resolve(secret);
    if (run.from_version > 0) {
      const previous = await dataOf(kv, ref.key, run.from_version);
      const current = (await dataOf(kv, ref.key, run.pending_version)) ?? {};
      if (policy !== undefined && previous !== undefined) {
        const rotator = rotatorOf(policy);
        await audited(run, 'retire', async () => {
          try {
            await rotator.retire?.({ ...(await contextOf(run, policy, current)), previous });
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

  const resume = async (secret: string, staleMs = 0) => {
    const found = await store.readRun(secret);
    if (found === undefined || found.state !== 'running') return undefined;
    // Held: by this engine driving it, or by a live node (a run this engine left is its own).
    if (driving.has(secret)) return undefined;
    if (found.owner !== owner && !runLeaseEnded(found, deps.clock(), staleMs)) return undefined;
    const policy = await store.readPolicy(secret);
    if (policy === undefined) {
      // The policy went while the run was cut short: roll back with what the run recorded.
      throw new CustosError('ERR_NOT_FOUND', `no rotation policy for ${secret}`);
    }
    driving.add(secret);
    const run = await store
      .claimRun(secret, { owner, nowMs: deps.clock(), leaseMs: runLeaseMs, staleMs })
      .catch((err: unknown) => {
        driving.delete(secret);
        throw err;
      });
    if (run === undefined) {
      driving.delete(secret);
      return undefined;
    }
    return drive(run, policy);
  };

  const continueFinish = async (secret: string): Promise<RotationResult> => {
    const policy = await store.readPolicy(secret);
    if (policy === undefined)
      throw new CustosError('ERR_NOT_FOUND', `no rotation policy for ${secret}`);
    const last = [...(await store.history(secret))].reverse().find((r) => r.state === 'succeeded');
    const job = await store.readJob(secret);
    if (last !== undefined && job?.rotation_id === last.id && !jobEnded(job)) {
      // The background work (a rewrap): taken up now, in the background, whatever its retry
      // time; refused while a live node holds it.
      if (!claimable(job, deps.clock(), true) || !(await runner.start(secret, true)))
        throw new ServerError(
          'ERR_ROTATION_IN_PROGRESS',
          `the background work of the last rotation of ${secret} is running on a node: follow it with custos rotation history ${secret}`,
        );
      return { ...resultOf(last, 'succeeded'), background: 'running' };
    }
    if (last === undefined || last.error === undefined)
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        `the last rotation of ${secret} finished completely: nothing to continue`,
      );
    const rotator = rotatorOf(policy);
    if (rotator.name !== last.rotator)
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        `the policy now names rotator ${rotator.name}, not ${last.rotator} that rotated: rotate again`,
      );
    const { ref, kv } = await resolve(secret);
    const current = (await dataOf(kv, ref.key, last.from_version)) ?? {};
    const pending = await dataOf(kv, ref.key, last.pending_version);
    if (pending === undefined)
      throw new CustosError('ERR_NOT_FOUND', 'the version the rotation made current is gone');
    const context: PendingContext = { ...(await contextOf(last, policy, current)), pending };
    const run: RotationRun = { ...last, steps: [...last.steps] };
    try {
      await audited(run, 'finish', async () => {
        await rotator.finish?.(context);
      });
      run.steps.push({ step: 'finish', result: 'ok', time: nowIso() });
      delete run.error;
    } catch (err) {
      const message = scrubValues(err, [current, pending]);
      run.steps.push({ step: 'finish', result: 'failed', time: nowIso(), error: message });
      run.error = message;
    }
    await store.appendHistory(run);
    return resultOf(run, 'succeeded');
  };

  const runner = createEngineBackground({
    store,
    rotators,
    clock: deps.clock,
    leaseMs,
    async readData(secret, version) {
      const { ref, kv } = await resolve(secret);
      return dataOf(kv, ref.key, version);
    },
    contextOf,
    audited,
    retire,
  });

  return {
    async startBackground() {
      const started: string[] = [];
      for (const secret of await store.listJobs()) {
        const job = await store.readJob(secret);
        if (job === undefined || !claimable(job, deps.clock())) continue;
        // A run still at finish (its node died) is resumed first; its job waits for that.
        const run = await store.readRun(secret);
        if (run?.id === job.rotation_id && run.state === 'running') continue;
        if (await runner.start(secret)) started.push(secret);
      }
      return started;
    },
    async abandonBackground(secret, request) {
      const run = await abandonBackground({ store, clock: deps.clock, audited }, secret, request);
      return { ...resultOf(run, 'succeeded'), background: 'abandoned' };
    },
    backgroundIdle: () => runner.idle(),
    stopBackground: () => runner.stop(),
    continueFinish,
    refOf: async (secret) => (await resolve(secret)).ref,
    async rotate(ref, options) {
      const secret = secretName(ref);
      const policy = await store.readPolicy(secret);
      if (policy === undefined)
        throw new CustosError('ERR_NOT_FOUND', `no rotation policy for ${secret}`);
      const rotator = rotatorOf(policy);
      const resolved = await resolve(secret);
      // The name is read back by the mount table (as every step after this one reads it): a
      // mount moved or enabled since the caller resolved `ref` would make it another secret.
      if (resolved.ref.mount !== ref.mount || resolved.ref.key !== ref.key)
        throw new CustosError(
          'ERR_INVALID_REQUEST',
          `${secret} no longer names a secret of the mount at ${ref.mount}/`,
        );
      const { kv } = resolved;
      const meta = await kv.readMetadata(ref.key);
      const from = meta === undefined ? 0 : (versionOfStage(meta, 'current') ?? 0);
      const current = await dataOf(kv, ref.key, from);
      if (current === undefined)
        throw new CustosError(
          'ERR_INVALID_REQUEST',
          `the current version of ${secret} is deleted or destroyed: undelete it or write a new one first`,
        );
      const run: RotationRun = {
        id: randomUUID(),
        secret,
        rotator: policy.rotator,
        by: options.by,
        ...(options.reason === undefined ? {} : { reason: options.reason }),
        ...(options.approvedBy === undefined ? {} : { approved_by: [...options.approvedBy] }),
        ...(options.versionId === undefined ? {} : { version_id: options.versionId }),
        started_time: nowIso(),
        step: 'create',
        state: 'running',
        from_version: from,
        steps: [],
        saved_ms: deps.clock(),
        owner,
        lease_until_ms: deps.clock() + runLeaseMs,
      };
      if (options.dryRun === true) {
        const context = await contextOf(run, policy, current);
        const plan = {
          rotator: policy.rotator,
          steps: ['create', 'set', 'test', 'finish'],
          from_version: from,
          grace_period_seconds: policy.grace_period,
          automatic: policy.automatic,
        };
        try {
          await audited(run, 'dry-run', async () => {
            await rotator.preflight?.(context);
            const pending = await rotator.create(context); // checked, then discarded
            if (typeof pending !== 'object' || pending === null)
              throw new Error('the rotator created no data');
          });
          run.steps.push({ step: 'create', result: 'ok', time: nowIso() });
          return { ...resultOf(run, 'planned'), plan };
        } catch (err) {
          const error = scrubValues(err, [current]);
          run.steps.push({ step: 'create', result: 'failed', time: nowIso(), error });
          return { ...resultOf(run, 'failed'), error, plan };
        }
      }
      const job = await store.readJob(secret);
      if (job !== undefined && !jobEnded(job))
        throw new ServerError(
          'ERR_ROTATION_IN_PROGRESS',
          `the background work of the last rotation of ${secret} has not finished (${job.state}): wait for it, or continue it (custos rotation continue ${secret})`,
        );
      // A new rotation ends the last one's grace period: its previous value is retired first
      // (else it would lose its `previous` label and never be retired: valid for good).
      const last = await store.readRun(secret);
      if (last?.state === 'succeeded' && last.retired !== true) await retire(secret, last);
      if (options.after !== undefined) {
        if (!(await store.startRun(run, options.after))) return resultOf(run, 'skipped');
      } else if (!(await store.startRun(run)))
        throw new ServerError(
          'ERR_ROTATION_IN_PROGRESS',
          `a rotation of ${secret} is already running`,
        );
      driving.add(secret);
      return drive(run, policy);
    },
    resume,
    async resumeAll(staleMs) {
      const out: RotationResult[] = [];
      for (const secret of await store.listRunning()) {
        let result: RotationResult | undefined;
        try {
          result = await resume(secret, staleMs);
        } catch (err) {
          // Taken over by another node while this one drove it: theirs now.
          if (isServerError(err, 'ERR_ROTATION_IN_PROGRESS')) continue;
          throw err;
        }
        if (result !== undefined) out.push(result);
      }
      return out;
    },
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
