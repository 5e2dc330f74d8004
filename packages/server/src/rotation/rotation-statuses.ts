import { type RotationStatus, statusOf } from './rotation-status.js';
import type { RotationRun, RotationStore } from './rotation-store.js';

/** The last successful run of a secret's history (oldest first), if any. */
export const lastSucceeded = (history: readonly RotationRun[]): RotationRun | undefined =>
  [...history].reverse().find((run) => run.state === 'succeeded');

/**
 * The rotation status of every secret with a policy at `nowMs` (`sys/rotation-status`, and the
 * overdue gauge of the metrics).
 *
 * @example
 * ```ts
 * const overdue = (await rotationStatuses(store, Date.now())).filter((s) => s.overdue);
 * ```
 */
export async function rotationStatuses(
  store: Pick<RotationStore, 'listPolicies' | 'readPolicy' | 'history' | 'readRun' | 'readJob'>,
  nowMs: number,
): Promise<RotationStatus[]> {
  const statuses: RotationStatus[] = [];
  for (const secret of await store.listPolicies()) {
    const policy = await store.readPolicy(secret);
    if (policy === undefined) continue;
    const history = await store.history(secret);
    const run = await store.readRun(secret);
    const job = await store.readJob(secret);
    statuses.push(statusOf(secret, policy, lastSucceeded(history), run, nowMs, job));
  }
  return statuses;
}
