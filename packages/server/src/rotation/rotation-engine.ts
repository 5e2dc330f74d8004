import { randomUUID } from 'node:crypto';
import { CustosError } from '@custos/core/errors';
import type { AuditBroker } from '../audit/audit-broker.js';
import { isServerError, ServerError } from '../errors.js';
import type { KvEngine } from '../kv/kv-engine.js';
import {
  CURRENT_LABEL,
  PENDING_LABEL,
  PREVIOUS_LABEL,
  removeLabel,
  setLabel,
} from '../kv/kv-labels.js';
import type { KeyMetadata } from '../kv/kv-metadata.js';
import { versionOfStage } from '../kv/kv-stages.js';
import type { JobState } from './background-jobs.js';
import { claimable, jobEnded } from './background-jobs.js';
import { type AbandonRequest, abandonBackground } from './rotation-abandon.js';
import { createEngineBackground } from './rotation-background-work.js';
import type { RotationPolicy } from './rotation-policy.js';
import type { RotationRun, RotationStep, RotationStore } from './rotation-store.js';
import type { PendingContext, RotationContext, Rotator, RotatorRegistry } from './rotator.js';
import { runLeaseEnded } from './run-lease.js';
import { scrubValues } from './scrub-values.js';

/** A KV secret a policy covers: its mount and its key in the mount. */
export interface SecretRef {
  readonly mount: string;
  readonly key: string;
}

/** `<mount>/<key>`: how the store and the API name a secret. */
export const secretName = (ref: SecretRef): string => `${ref.mount}/${ref.key}`;

/** Who asks for a rotation and why. */
export interface RotateOptions {
  /** A token accessor, or `scheduler`. */
  readonly by: string;
  /**
   * Start only if the secret's last run is still this one (`null`: none): the scheduler's
   * guard against two nodes rotating one due secret twice. Refused: result `skipped`.
   */
  readonly after?: string | null;
  readonly reason?: string;
  /** The identities that approved the rotation (two-person approval), recorded with it. */
  readonly approvedBy?: readonly string[];
  /** Runs create (discarded) and the rotator's preflight only: nothing is written or applied. */
  readonly dryRun?: boolean;
  /**
   * The KV version id the pending version gets (the Secrets Manager API's
   * `ClientRequestToken`); default the rotation id. A version id the secret already has is
   * never adopted unless it is this rotation's pending version (rotation/NOTES.md).
   */
  readonly versionId?: string;
}

/** What a rotation (or a dry run) came to. Never holds a value. */
export interface RotationResult {
  readonly id: string;
  readonly secret: string;
  readonly result: 'succeeded' | 'rolled_back' | 'failed' | 'planned' | 'skipped';
  readonly steps: RotationRun['steps'];
  readonly error?: string;
  readonly from_version?: number;
  readonly new_version?: number;
  readonly new_fingerprint?: string;
  readonly retire_after?: string;
  readonly plan?: Record<string, unknown>;
  /** The rotator's background work (a `transit-key` rewrap), when it has some: its state. */
  readonly background?: JobState;
}

/** What the engine is given. */
export interface RotationEngineDeps {
  readonly store: RotationStore;
  /** The KV engine serving `mount`, or undefined when no KV v2 mount is there. */
  kvOf(mount: string): Promise<KvEngine | undefined>;
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

/** The secret a stored name names (`secret/app/db` → mount `secret`, key `app/db`). */
export function refOfSecret(secret: string): SecretRef {
  const slash = secret.indexOf('/');
  return { mount: secret.slice(0, slash), key: secret.slice(slash + 1) };
}

/** The KV version id a run writes its pending version under. */
const versionIdOfRun = (run: Pick<RotationRun, 'id' | 'version_id'>): string =>
  run.version_id ?? run.id;

/** The version the run's version id names in `meta`, if any. */
function writtenBy(meta: KeyMetadata, run: RotationRun): number | undefined {
  const ids = meta.version_ids ?? {};
  const id = versionIdOfRun(run);
  return Object.hasOwn(ids, id) ? ids[id] : undefined;
}

/** Whether `version` holds the `pending` label and neither `current` nor `previous`. */
function isPendingOnly(meta: KeyMetadata, version: number): boolean {
  return (
    versionOfStage(meta, 'pending') === version &&
    versionOfStage(meta, 'current') !== version &&
    versionOfStage(meta, 'previous') !== version
  );
}

/** Creates the engine. */
export function createRotationEngine(deps: RotationEngineDeps): RotationEngine {
  const { store, rotators, audit } = deps;
  const nowIso = () => new Date(deps.clock()).toISOString();
  const leaseMs = deps.backgroundLeaseMs ?? 60_000;
  const runLeaseMs = deps.runLeaseMs ?? 60_000;
  /** This engine's name in run claims, and the secrets whose runs it drives now. */
  const owner = randomUUID();
  const driving = new Set<string>();

  const kvFor = async (mount: string): Promise<KvEngine> => {
    const kv = await deps.kvOf(mount);
    if (kv === undefined)
      throw new CustosError('ERR_INVALID_REQUEST', `no KV version 2 mount at ${mount}/`);
    return kv;
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
    const ref = refOfSecret(run.secret);
    const kv = await kvFor(ref.mount);
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
    const renewal = setInterval(
      () =>
        void store.renewRun(run.secret, run.id, owner, deps.clock() + runLeaseMs).catch(() => {}), // a storage hiccup: the next renewal tries again
      Math.max(10, Math.floor(runLeaseMs / 3)),
    );
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
    const ref = refOfSecret(run.secret);
    const kv = await kvFor(ref.mount);
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
              run.pending_version = await createStep(kv, ref.key, run, rotator, context);
              return;
            case 'set':
              return rotator.set(await pendingContext());
            case 'test':
              return rotator.test(await pendingContext());
            case 'finish':
              return finishStep(kv, ref.key, run, policy, rotator, await pendingContext());
            case 'rollback':
              return rollbackStep(kv, ref.key, run, rotator, pendingContext);
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

  const createStep = async (
    kv: KvEngine,
    key: string,
    run: RotationRun,
    rotator: Rotator,
    context: RotationContext,
  ): Promise<number> => {
    // Idempotent: the version this rotation wrote carries its id (a replay after a crash).
    const meta = await kv.readMetadata(key);
    const written = meta === undefined ? undefined : writtenBy(meta, run);
    if (written !== undefined) {
      if (meta !== undefined && isPendingOnly(meta, written)) return written;
      // A client's version id naming another version (PutSecretValue wrote it, or it is
      // current): never adopted as the pending value, never destroyed by the rollback.
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        'the version id of this rotation already names a version of the secret',
      );
    }
    // The pending version must not push `current` (or `previous`) out of the kept versions.
    const configured = Math.max(meta?.max_versions ?? 0, (await kv.config()).max_versions);
    if (configured > 0 && configured < 3)
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        `max_versions is ${configured}: rotation keeps current, pending and previous, so the key (or mount) must keep at least 3 versions`,
      );
    const pending = await rotator.create(context);
    const { version } = await kv.write(key, pending, meta?.current_version ?? 0, {
      labels: [PENDING_LABEL],
      versionId: versionIdOfRun(run),
    });
    return version;
  };

  const finishStep = async (
    kv: KvEngine,
    key: string,
    run: RotationRun,
    policy: RotationPolicy,
    rotator: Rotator,
    context: PendingContext,
  ) => {
    const pending = run.pending_version as number;
    // Recorded before the labels move: once the new value is current, its background work
    // (and the guard against retiring the old value before it) exists for sure.
    if (rotator.background !== undefined)
      await store.recordJob({
        rotationId: run.id,
        secret: run.secret,
        rotator: rotator.name,
        settings: policy.settings,
        gracePeriod: policy.grace_period,
        nowMs: deps.clock(),
      });
    await kv.patchMetadata(key, (meta) => {
      const current = versionOfStage(meta, 'current');
      if (current === pending) return; // done before a crash
      if ((current ?? 0) !== run.from_version)
        throw new CustosError(
          'ERR_INVALID_REQUEST',
          'the secret was written during the rotation: its current version is not the one rotated',
        );
      setLabel(meta, CURRENT_LABEL, pending); // the old current becomes previous
      removeLabel(meta, PENDING_LABEL, pending);
    });
    if (run.from_version > 0) run.old_fingerprint = await store.fingerprint(context.current);
    run.new_fingerprint = await store.fingerprint(context.pending);
    run.retire_after = new Date(deps.clock() + policy.grace_period * 1000).toISOString();
    await rotator.finish?.(context);
  };

  const rollbackStep = async (
    kv: KvEngine,
    key: string,
    run: RotationRun,
    rotator: Rotator,
    pendingContext: () => Promise<PendingContext>,
  ) => {
    const pending = run.pending_version;
    if (pending === undefined) {
      // Create may have written the version before a crash kept it from being recorded: only
      // a version that holds `pending` alone is this rotation's (a client's version id may
      // name a version the rotation never wrote, which must not be destroyed).
      const meta = await kv.readMetadata(key);
      const written = meta === undefined ? undefined : writtenBy(meta, run);
      if (meta === undefined || written === undefined || !isPendingOnly(meta, written)) return;
      run.pending_version = written;
    }
    const meta = await kv.readMetadata(key);
    if (meta !== undefined && versionOfStage(meta, 'current') === run.pending_version)
      throw new CustosError('ERR_INVALID_REQUEST', 'the pending value is current already');
    const context = await pendingContext().catch(() => undefined);
    if (context !== undefined) await rotator.rollback?.(context);
    await kv.patchMetadata(key, (m) =>
      removeLabel(m, PENDING_LABEL, run.pending_version as number),
    );
    // The unused value is not kept: it was never current.
    await kv.destroyVersions(key, [run.pending_version as number]);
    // A background job finish recorded before it refused: nothing to do in the background.
    await store.dropJob(run.secret, run.id);
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
    const ref = refOfSecret(secret);
    const kv = await kvFor(ref.mount);
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
    const ref = refOfSecret(secret);
    const kv = await kvFor(ref.mount);
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
      const ref = refOfSecret(secret);
      return dataOf(await kvFor(ref.mount), ref.key, version);
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
    async rotate(ref, options) {
      const secret = secretName(ref);
      const policy = await store.readPolicy(secret);
      if (policy === undefined)
        throw new CustosError('ERR_NOT_FOUND', `no rotation policy for ${secret}`);
      const rotator = rotatorOf(policy);
      const kv = await kvFor(ref.mount);
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
