import { type Barrier, retryOnConflict } from '../barrier/barrier.js';
import { ROTATION } from '../storage/layout.js';
import type { RotationRun } from './rotation-store.js';

/**
 * The claims on running rotations (rotation/NOTES.md, "Leases"): a run is driven by the node
 * whose `owner` it names until `lease_until_ms`, renewed while a step runs; another node takes
 * it over only once that passed. Each operation reads the run and replaces it at that revision
 * in one transaction (no row lock: `FOR SHARE` then update deadlocks on PostgreSQL).
 */
export interface RunLeaseStore {
  /**
   * Takes the secret's running run for `owner` until `nowMs + leaseMs`, when its lease ended
   * (a run saved without one, by a version before leases: `staleMs` after it was saved), or it
   * is `owner`'s own (the caller knows it no longer drives it). Undefined otherwise.
   */
  claimRun(
    secret: string,
    claim: { owner: string; nowMs: number; leaseMs: number; staleMs: number },
  ): Promise<RotationRun | undefined>;
  /** Extends `owner`'s lease on run `runId`; false when the run is no longer theirs. */
  renewRun(secret: string, runId: string, owner: string, untilMs: number): Promise<boolean>;
  /** Ends `owner`'s lease now (the run stays as saved, for any node to resume at once). */
  releaseRun(secret: string, runId: string, owner: string): Promise<void>;
}

/** Whether `run` may be taken over at `nowMs` by a node that is not its owner. */
export function runLeaseEnded(run: RotationRun, nowMs: number, staleMs: number): boolean {
  if (run.state !== 'running') return false;
  const until = run.lease_until_ms ?? (run.saved_ms ?? 0) + staleMs;
  return until <= nowMs;
}

/** The run leases on the rotation area of the barrier (a view at `sys/rotation/`). */
export function createRunLeaseStore(storage: Barrier): RunLeaseStore {
  const pathOf = (secret: string) => ROTATION.run + secret;
  /** Reads the run and replaces it with what `next` makes of it (undefined: leave it). */
  const update = <T>(
    secret: string,
    next: (run: RotationRun) => { run: RotationRun; result: T } | undefined,
    otherwise: T,
  ): Promise<T> =>
    retryOnConflict(() =>
      storage.transaction(async (tx) => {
        const stored = await tx.read<RotationRun>(pathOf(secret));
        if (stored === undefined) return otherwise;
        const changed = next(stored.data);
        if (changed === undefined) return otherwise;
        await tx.replace(pathOf(secret), changed.run, stored.revision);
        return changed.result;
      }),
    );
  const held = (run: RotationRun, runId: string, owner: string) =>
    run.id === runId && run.state === 'running' && run.owner === owner;

  return {
    claimRun: (secret, { owner, nowMs, leaseMs, staleMs }) =>
      update<RotationRun | undefined>(
        secret,
        (run) => {
          if (run.state !== 'running') return undefined;
          if (run.owner !== owner && !runLeaseEnded(run, nowMs, staleMs)) return undefined;
          const claimed: RotationRun = {
            ...run,
            owner,
            lease_until_ms: nowMs + leaseMs,
            saved_ms: nowMs,
          };
          return { run: claimed, result: claimed };
        },
        undefined,
      ),
    renewRun: (secret, runId, owner, untilMs) =>
      update(
        secret,
        (run) =>
          held(run, runId, owner)
            ? { run: { ...run, lease_until_ms: untilMs }, result: true }
            : undefined,
        false,
      ),
    releaseRun: (secret, runId, owner) =>
      update(
        secret,
        (run) =>
          held(run, runId, owner)
            ? { run: { ...run, lease_until_ms: 0 }, result: undefined }
            : undefined,
        undefined,
      ),
  };
}
