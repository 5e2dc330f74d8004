import type { BackgroundJob, JobState } from './background-jobs.js';
import type { RotationPolicy } from './rotation-policy.js';
import { nextDue } from './rotation-schedule.js';
import type { RotationRun } from './rotation-store.js';

/** Where a secret's rotation stands, as `custos rotation status` shows it. Never a value. */
export interface RotationStatus {
  readonly secret: string;
  readonly rotator: string;
  readonly automatic: boolean;
  /** The last run's end (or start, while it runs), ISO; absent when never rotated. */
  readonly last_rotation?: string;
  readonly last_result?: RotationRun['state'] | 'failed';
  readonly next_due: string;
  readonly overdue: boolean;
  /** Whether the scheduler announces it now (within `notify_before` of its due time). */
  readonly notify: boolean;
  readonly running: boolean;
  /** The background work (a rewrap) of the last rotation, while it has not succeeded. */
  readonly background?: JobState;
}

/**
 * When a secret is next due: one schedule after its last successful rotation, or after its
 * policy was written when it never rotated.
 *
 * @example
 * ```ts
 * dueTime(policy, lastRun); // Unix ms
 * ```
 */
export function dueTime(policy: RotationPolicy, last: RotationRun | undefined): number {
  const from =
    last !== undefined && last.state === 'succeeded'
      ? Date.parse(last.ended_time ?? last.started_time)
      : Date.parse(policy.created_time);
  return nextDue(policy.schedule, from);
}

/** The status of one secret at `nowMs`, from its policy and its last run. */
export function statusOf(
  secret: string,
  policy: RotationPolicy,
  lastSucceeded: RotationRun | undefined,
  latest: RotationRun | undefined,
  nowMs: number,
  job?: BackgroundJob,
): RotationStatus {
  const due = dueTime(policy, lastSucceeded);
  const last = latest?.ended_time ?? latest?.started_time;
  const failedRollback = latest?.state === 'running' && latest.step === 'rollback' && latest.error;
  return {
    secret,
    rotator: policy.rotator,
    automatic: policy.automatic,
    ...(last === undefined ? {} : { last_rotation: last }),
    ...(latest === undefined ? {} : { last_result: failedRollback ? 'failed' : latest.state }),
    next_due: new Date(due).toISOString(),
    overdue: nowMs >= due,
    notify: policy.notify_before > 0 && nowMs >= due - policy.notify_before * 1000 && nowMs < due,
    running: latest?.state === 'running',
    ...(job === undefined || job.state === 'done' ? {} : { background: job.state }),
  };
}
