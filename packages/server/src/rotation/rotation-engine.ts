import { randomUUID } from 'node:crypto';
import { CustosError } from '@custos/core/errors';
import { ServerError } from '../errors.js';
import { versionOfStage } from '../kv/kv-stages.js';
import { claimable, jobEnded } from './background-jobs.js';
import { createContinueFinish } from './continue-finish.js';
import { type AbandonRequest, abandonBackground } from './rotation-abandon.js';
import { createEngineBackground } from './rotation-background-work.js';
import { createRunDriver } from './rotation-drive.js';
import { createEngineParts, type RotationEngineDeps } from './rotation-engine-parts.js';
import { createRunResumption } from './rotation-resume.js';
import { createRetirement } from './rotation-retire.js';
import type { RotationRun } from './rotation-store.js';
import type { RotateOptions, RotationResult, SecretRef } from './rotation-types.js';
import { secretName } from './rotation-types.js';
import { scrubValues } from './scrub-values.js';

export type { RotationEngineDeps } from './rotation-engine-parts.js';
export {
  type RotateOptions,
  type RotationResult,
  type SecretRef,
  secretName,
} from './rotation-types.js';

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
  /**
   * Stops this engine's work (seal, shutdown) and waits for it: the steps of the runs it drives
   * see their signal fire and nothing more is saved of them (their leases are released, for
   * another node to resume at once); its background jobs abort and are released as `pending`.
   */
  stopBackground(): Promise<void>;
}

/** Creates the engine. */
export function createRotationEngine(deps: RotationEngineDeps): RotationEngine {
  const parts = createEngineParts(deps, randomUUID());
  const { store, owner, runLeaseMs, nowIso, resolve, rotatorOf, dataOf, resultOf } = parts;
  const { retire, retireDue } = createRetirement(parts);
  const runner = createEngineBackground({
    store,
    rotators: deps.rotators,
    clock: deps.clock,
    leaseMs: deps.backgroundLeaseMs ?? 60_000,
    async readData(secret, version) {
      const { ref, kv } = await resolve(secret);
      return dataOf(kv, ref.key, version);
    },
    contextOf: parts.contextOf,
    audited: parts.audited,
    retire,
  });
  const driver = createRunDriver(parts, { startBackground: (s) => runner.start(s), retire });
  const { resume, resumeAll } = createRunResumption(parts, driver);

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
      const audited = parts.audited;
      const run = await abandonBackground({ store, clock: deps.clock, audited }, secret, request);
      return { ...resultOf(run, 'succeeded'), background: 'abandoned' };
    },
    backgroundIdle: () => runner.idle(),
    async stopBackground() {
      await Promise.all([driver.stop(), runner.stop()]);
    },
    continueFinish: createContinueFinish(parts, runner, driver),
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
      // The secret's last run, read before its current version: a start is refused unless the
      // last run is still this one then (`startRun`'s `after`), so a run that ended meanwhile
      // never leaves this one rotating a stale version (rolled back at finish) or its own
      // previous value unretired.
      const last = options.dryRun === true ? undefined : await store.readRun(secret);
      const busy = () =>
        new ServerError('ERR_ROTATION_IN_PROGRESS', `a rotation of ${secret} is already running`);
      if (last?.state === 'running') {
        if (options.after !== undefined)
          return { id: last.id, secret, result: 'skipped', steps: [] };
        throw busy();
      }
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
        const context = await parts.contextOf(run, policy, current);
        const plan = {
          rotator: policy.rotator,
          steps: ['create', 'set', 'test', 'finish'],
          from_version: from,
          grace_period_seconds: policy.grace_period,
          automatic: policy.automatic,
        };
        try {
          await parts.audited(run, 'dry-run', async () => {
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
      if (last?.state === 'succeeded' && last.retired !== true) await retire(secret, last);
      if (options.after !== undefined) {
        if (!(await store.startRun(run, options.after))) return resultOf(run, 'skipped');
      } else if (!(await store.startRun(run, last?.id ?? null))) throw busy();
      driver.driving.add(secret);
      return driver.drive(run, policy);
    },
    resume,
    resumeAll,
    retireDue,
  };
}
