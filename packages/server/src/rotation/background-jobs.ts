import { type Barrier, retryOnConflict } from '../barrier/barrier.js';
import { ROTATION } from '../storage/layout.js';

/**
 * Where a rotation's background work stands: `pending` (recorded by finish, nobody runs it),
 * `running` (a node holds it until `lease_until_ms`, renewing while it works), `done`,
 * `failed` (retried after `next_attempt_ms`, or at once by `sys/rotation-continue`), or
 * `abandoned` (an operator ended it unfinished: never run again, the old value never retired
 * automatically).
 */
export type JobState = 'pending' | 'running' | 'done' | 'failed' | 'abandoned';

/** Whether a job no longer holds back new rotations of its secret (done, or abandoned). */
export const jobEnded = (job: Pick<BackgroundJob, 'state'>): boolean =>
  job.state === 'done' || job.state === 'abandoned';

/**
 * The background work of one rotation (a `transit-key` rewrap), behind the barrier at
 * `sys/rotation/job/<secret>`: one per secret, so two nodes never work on one secret at once.
 * Never a value.
 */
export interface BackgroundJob {
  readonly rotation_id: string;
  readonly secret: string;
  readonly rotator: string;
  /** The policy's settings and grace period when the rotation ran (never a secret). */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly grace_period: number;
  readonly state: JobState;
  /** The node (engine instance) holding it while `running`. */
  readonly owner?: string;
  /** Until when (Unix ms) the owner holds it; past that, another node may take it over. */
  readonly lease_until_ms?: number;
  /** How many times a node took it up. */
  readonly attempts: number;
  /** Why the last attempt failed (values scrubbed). */
  readonly error?: string;
  /** `abandoned`: who ended it (a token accessor) and why. */
  readonly abandoned_by?: string;
  readonly abandon_reason?: string;
  /** `failed`: not retried by the scheduler before this (Unix ms). */
  readonly next_attempt_ms?: number;
  readonly created_time: string;
  readonly updated_time: string;
  readonly ended_time?: string;
}

/** The job storage of the rotation store (see {@link BackgroundJob}). */
export interface BackgroundJobStore {
  readJob(secret: string): Promise<BackgroundJob | undefined>;
  /** Every secret with a job (in any state), sorted. */
  listJobs(): Promise<string[]>;
  /**
   * Records rotation `rotationId`'s job as `pending` (idempotent: a job of that rotation stays
   * as it is; a job of an earlier rotation is replaced).
   */
  recordJob(job: {
    rotationId: string;
    secret: string;
    rotator: string;
    settings: Readonly<Record<string, unknown>>;
    gracePeriod: number;
    nowMs: number;
  }): Promise<void>;
  /**
   * Removes rotation `rotationId`'s job while nobody has taken it up (a rotation that rolled
   * back after recording it); other jobs stay.
   */
  dropJob(secret: string, rotationId: string): Promise<void>;
  /**
   * Takes the secret's job for `owner` until `nowMs + leaseMs`: when it is `pending`, `failed`
   * and due for a retry (or `force`), or `running` under a lease that ended (its node died).
   * One transaction (read, replaced at that revision): of two claimants one gets the job.
   */
  claimJob(
    secret: string,
    owner: string,
    nowMs: number,
    leaseMs: number,
    force?: boolean,
  ): Promise<BackgroundJob | undefined>;
  /**
   * Ends rotation `rotationId`'s job as `abandoned` whatever its state (a node running it
   * finds its claim gone at its next renewal and stops); undefined when the secret's job is
   * another rotation's, or done or abandoned already.
   */
  abandonJob(
    secret: string,
    rotationId: string,
    nowMs: number,
    by: { accessor: string; reason: string },
  ): Promise<BackgroundJob | undefined>;
  /** Extends `owner`'s lease; false when the job is no longer `owner`'s (taken over, ended). */
  renewJob(secret: string, owner: string, untilMs: number): Promise<boolean>;
  /**
   * Ends `owner`'s attempt: `done`, `failed` with the error, or `pending` again (released by a
   * node that stops, for another to take up at once); false when it was not theirs.
   */
  endJob(
    secret: string,
    owner: string,
    nowMs: number,
    outcome:
      | { state: 'done' | 'pending' }
      | { state: 'failed'; error: string; retryAfterMs: number },
  ): Promise<boolean>;
}

/** Whether a job can be claimed at `nowMs` (by someone other than a live owner). */
export function claimable(job: BackgroundJob, nowMs: number, force = false): boolean {
  switch (job.state) {
    case 'done':
    case 'abandoned':
      return false;
    case 'pending':
      return true;
    case 'running':
      return (job.lease_until_ms ?? 0) <= nowMs;
    case 'failed':
      return force || (job.next_attempt_ms ?? 0) <= nowMs;
  }
}

/** The job store on the rotation area of the barrier (a view at `sys/rotation/`). */
export function createBackgroundJobStore(storage: Barrier): BackgroundJobStore {
  const pathOf = (secret: string) => ROTATION.job + secret;
  const iso = (ms: number) => new Date(ms).toISOString();
  /** Reads the job and replaces it with what `next` makes of it (undefined: leave it). */
  const update = <T>(
    secret: string,
    next: (job: BackgroundJob) => { job: BackgroundJob; result: T } | undefined,
    otherwise: T,
  ): Promise<T> =>
    retryOnConflict(() =>
      storage.transaction(async (tx) => {
        // Read, then replaced at that revision (no row lock: FOR SHARE then update deadlocks).
        const stored = await tx.read<BackgroundJob>(pathOf(secret));
        if (stored === undefined) return otherwise;
        const changed = next(stored.data);
        if (changed === undefined) return otherwise;
        await tx.replace(pathOf(secret), changed.job, stored.revision);
        return changed.result;
      }),
    );

  return {
    readJob: async (secret) => (await storage.read<BackgroundJob>(pathOf(secret)))?.data,
    listJobs: async () =>
      (await storage.listPaths(ROTATION.job)).map((p) => p.slice(ROTATION.job.length)).sort(),
    recordJob: ({ rotationId, secret, rotator, settings, gracePeriod, nowMs }) =>
      retryOnConflict(() =>
        storage.transaction(async (tx) => {
          // Only while the secret's run entry is there (replaced at its revision): a mount
          // moved or disabled meanwhile took it away, and no job is left under the old name.
          const run = await tx.read<{ id: string }>(ROTATION.run + secret);
          if (run?.data.id !== rotationId)
            throw new Error('the rotation is no longer stored under this name');
          await tx.replace(ROTATION.run + secret, run.data, run.revision);
          const stored = await tx.read<BackgroundJob>(pathOf(secret));
          if (stored?.data.rotation_id === rotationId) return;
          const job: BackgroundJob = {
            rotation_id: rotationId,
            secret,
            rotator,
            settings,
            grace_period: gracePeriod,
            state: 'pending',
            attempts: 0,
            created_time: iso(nowMs),
            updated_time: iso(nowMs),
          };
          if (stored === undefined) await tx.create(pathOf(secret), job);
          else await tx.replace(pathOf(secret), job, stored.revision);
        }),
      ),
    dropJob: (secret, rotationId) =>
      retryOnConflict(() =>
        storage.transaction(async (tx) => {
          const stored = await tx.read<BackgroundJob>(pathOf(secret));
          if (stored?.data.rotation_id !== rotationId || stored.data.state !== 'pending') return;
          // The revision read must still be the one removed: a claim meanwhile is a conflict.
          await tx.replace(pathOf(secret), stored.data, stored.revision);
          await tx.remove(pathOf(secret));
        }),
      ),
    claimJob: (secret, owner, nowMs, leaseMs, force = false) =>
      update<BackgroundJob | undefined>(
        secret,
        (job) => {
          if (!claimable(job, nowMs, force)) return undefined;
          const { error: _error, next_attempt_ms: _next, ...rest } = job;
          const claimed: BackgroundJob = {
            ...rest,
            state: 'running',
            owner,
            lease_until_ms: nowMs + leaseMs,
            attempts: job.attempts + 1,
            updated_time: iso(nowMs),
          };
          return { job: claimed, result: claimed };
        },
        undefined,
      ),
    abandonJob: (secret, rotationId, nowMs, by) =>
      update<BackgroundJob | undefined>(
        secret,
        (job) => {
          if (job.rotation_id !== rotationId || jobEnded(job)) return undefined;
          const { owner: _owner, lease_until_ms: _lease, next_attempt_ms: _next, ...rest } = job;
          const abandoned: BackgroundJob = {
            ...rest,
            state: 'abandoned',
            abandoned_by: by.accessor,
            abandon_reason: by.reason,
            updated_time: iso(nowMs),
            ended_time: iso(nowMs),
          };
          return { job: abandoned, result: abandoned };
        },
        undefined,
      ),
    renewJob: (secret, owner, untilMs) =>
      update(
        secret,
        (job) =>
          job.state === 'running' && job.owner === owner
            ? { job: { ...job, lease_until_ms: untilMs }, result: true }
            : undefined,
        false,
      ),
    endJob: (secret, owner, nowMs, outcome) =>
      update(
        secret,
        (job) => {
          if (job.state !== 'running' || job.owner !== owner) return undefined;
          const { owner: _owner, lease_until_ms: _lease, ...rest } = job;
          const base = { ...rest, updated_time: iso(nowMs) };
          let ended: BackgroundJob;
          if (outcome.state === 'failed')
            ended = {
              ...base,
              state: 'failed',
              error: outcome.error,
              next_attempt_ms: nowMs + outcome.retryAfterMs,
            };
          else if (outcome.state === 'done')
            ended = { ...base, state: 'done', ended_time: iso(nowMs) };
          else ended = { ...base, state: 'pending' };
          return { job: ended, result: true };
        },
        false,
      ),
  };
}
