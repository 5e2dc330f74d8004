import { CustosError } from '@custos/core/errors';
import type { KvEngine } from '../kv/kv-engine.js';
import { CURRENT_LABEL, PENDING_LABEL, removeLabel, setLabel } from '../kv/kv-labels.js';
import type { KeyMetadata } from '../kv/kv-metadata.js';
import { versionOfStage } from '../kv/kv-stages.js';
import type { RotationPolicy } from './rotation-policy.js';
import type { RotationRun, RotationStore } from './rotation-store.js';
import type { PendingContext, RotationContext, Rotator } from './rotator.js';

/** The KV version id a run writes its pending version under. */
const versionIdOfRun = (run: Pick<RotationRun, 'id' | 'version_id'>): string =>
  run.version_id ?? run.id;

/** The version the run's version id names in `meta`, if any. */
export function writtenBy(meta: KeyMetadata, run: RotationRun): number | undefined {
  const ids = meta.version_ids ?? {};
  const id = versionIdOfRun(run);
  return Object.hasOwn(ids, id) ? ids[id] : undefined;
}

/** Whether `version` holds the `pending` label and neither `current` nor `previous`. */
export function isPendingOnly(meta: KeyMetadata, version: number): boolean {
  return (
    versionOfStage(meta, 'pending') === version &&
    versionOfStage(meta, 'current') !== version &&
    versionOfStage(meta, 'previous') !== version
  );
}

/** What the steps that touch the secret need. */
export interface RotationStepsDeps {
  readonly store: Pick<RotationStore, 'recordJob' | 'dropJob' | 'fingerprint'>;
  readonly clock: () => number;
}

/**
 * The steps of a rotation that touch the secret itself (rotation/NOTES.md, "The state
 * machine"): create writes the pending version, finish moves the labels, rollback removes the
 * pending version; each idempotent, so a run resumed after a crash may run it again. Set and
 * test are the rotator's alone.
 *
 * @example
 * ```ts
 * const steps = createRotationSteps({ store, clock: Date.now });
 * run.pending_version = await steps.create(kv, key, run, rotator, context);
 * ```
 */
export function createRotationSteps(deps: RotationStepsDeps) {
  const { store, clock } = deps;

  const create = async (
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

  const finish = async (
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
        nowMs: clock(),
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
    run.retire_after = new Date(clock() + policy.grace_period * 1000).toISOString();
    await rotator.finish?.(context);
  };

  const rollback = async (
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

  return { create, finish, rollback };
}
