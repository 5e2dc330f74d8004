import type { BackgroundJob, BackgroundJobStore } from './background-jobs.js';

/** What the runner needs: the job store, the clock, and what running and ending a job mean. */
export interface BackgroundRunnerDeps {
  readonly store: Pick<BackgroundJobStore, 'claimJob' | 'renewJob' | 'endJob'>;
  readonly clock: () => number;
  /** This node's name in the claims (an engine instance: a random id). */
  readonly owner: string;
  /** How long a claim holds without renewal; renewed every third of it while the job runs. */
  readonly leaseMs: number;
  /** Does the job's work; `signal` aborts when the claim was lost or the node stops. */
  work(job: BackgroundJob, signal: AbortSignal): Promise<void>;
  /** Records how an attempt went (the rotation's history), before the job is marked ended. */
  record(job: BackgroundJob, outcome: { ok: true } | { ok: false; error: string }): Promise<void>;
  /** After the job was marked `done` (the old value may be retired now). */
  done(job: BackgroundJob): Promise<void>;
  /** Turns a failure into what may be recorded (values scrubbed). */
  describe(err: unknown): string;
}

/** Runs claimed background jobs in this process, each under a renewed lease. */
export interface BackgroundRunner {
  /**
   * Claims the secret's job and starts it without waiting for it; false when it could not be
   * claimed (done, or held by a live node, or a failed one not yet due and not `force`).
   */
  start(secret: string, force?: boolean): Promise<boolean>;
  /** Whether this process runs the secret's job now. */
  running(secret: string): boolean;
  /** Resolves when every job this process runs has ended. */
  idle(): Promise<void>;
  /** Aborts every job this process runs and waits for them (seal, shutdown). */
  stop(): Promise<void>;
}

/** A failed attempt waits this long before the scheduler retries it, doubling up to an hour. */
export const retryDelayMs = (attempts: number): number =>
  Math.min(60_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);

/** Creates the runner (one per engine). */
export function createBackgroundRunner(deps: BackgroundRunnerDeps): BackgroundRunner {
  const inflight = new Map<string, { promise: Promise<void>; abort: AbortController }>();
  let stopping = false;
  const idle = async () => {
    while (inflight.size > 0) await Promise.all([...inflight.values()].map((j) => j.promise));
  };

  const attempt = async (job: BackgroundJob, abort: AbortController) => {
    const { secret } = job;
    const renew = setInterval(
      () =>
        void deps.store
          .renewJob(secret, deps.owner, deps.clock() + deps.leaseMs)
          .then((held) => {
            if (!held) abort.abort(new Error('the claim on the job was lost'));
          })
          .catch(() => {}), // a storage hiccup: the next renewal tries again
      Math.max(10, Math.floor(deps.leaseMs / 3)),
    );
    renew.unref();
    let outcome: { ok: true } | { ok: false; error: string };
    try {
      await deps.work(job, abort.signal);
      outcome = { ok: true };
    } catch (err) {
      outcome = { ok: false, error: deps.describe(err) };
    } finally {
      clearInterval(renew);
    }
    if (stopping && !outcome.ok) {
      // Cut short by this node stopping: released, for the next leader to take up at once.
      await deps.store
        .endJob(secret, deps.owner, deps.clock(), { state: 'pending' })
        .catch(() => {});
      return;
    }
    // A claim lost (the job taken over, abandoned, moved or removed): the work is no longer
    // this node's, and it records nothing of it.
    if (abort.signal.aborted && !stopping) return;
    await deps.record(job, outcome).catch(() => {});
    const recorded = await deps.store
      .endJob(
        secret,
        deps.owner,
        deps.clock(),
        outcome.ok
          ? { state: 'done' }
          : { state: 'failed', error: outcome.error, retryAfterMs: retryDelayMs(job.attempts) },
      )
      .catch(() => false);
    // Not recorded (the claim was lost, or storage failed): the lease ends and another node
    // (or the next tick) takes the job up again; its work is resumable.
    if (recorded && outcome.ok) await deps.done(job).catch(() => {});
  };

  return {
    async start(secret, force = false) {
      if (stopping || inflight.has(secret)) return false;
      const job = await deps.store.claimJob(secret, deps.owner, deps.clock(), deps.leaseMs, force);
      if (job === undefined || inflight.has(secret)) return false;
      const abort = new AbortController();
      const promise = attempt(job, abort).finally(() => inflight.delete(secret));
      inflight.set(secret, { promise, abort });
      return true;
    },
    running: (secret) => inflight.has(secret),
    idle,
    async stop() {
      stopping = true;
      for (const job of inflight.values()) job.abort.abort(new Error('the node is stopping'));
      await idle();
      stopping = false; // unsealed again later: jobs may start again
    },
  };
}
