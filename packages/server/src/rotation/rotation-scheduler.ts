import { isServerError } from '../errors.js';
import type { ApprovalStore } from './approval-store.js';
import { jobEnded } from './background-jobs.js';
import type { LeaderLock } from './leader-lock.js';
import type { RotationEngine, RotationResult } from './rotation-engine.js';
import { withinWindow } from './rotation-schedule.js';
import { dueTime, statusOf } from './rotation-status.js';
import type { RotationRun, RotationStore } from './rotation-store.js';

/** Something the scheduler did or announces (never a value). */
export type SchedulerEvent =
  | { readonly kind: 'notify'; readonly secret: string; readonly due: string }
  | {
      readonly kind: 'rotated';
      readonly secret: string;
      readonly result: RotationResult['result'];
    };

/** Options of {@link createRotationScheduler}. */
export interface RotationSchedulerOptions {
  readonly engine: RotationEngine;
  readonly store: RotationStore;
  readonly leader: LeaderLock;
  /** Unix ms (tests inject one). */
  readonly clock: () => number;
  /** At most this many rotations at once (default 4). */
  readonly concurrency?: number;
  /** Each due rotation waits a random delay up to this long first (default 30 000 ms). */
  readonly jitterMs?: number;
  /**
   * A run saved without a lease (by a version before run leases) and not saved for this long
   * was left by a crashed node and is resumed (default 10 min); a leased run, once its lease ended.
   */
  readonly staleRunMs?: number;
  /** How a delay is waited (tests pass one that does not wait). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Random numbers in [0, 1) for the jitter (default `Math.random`: not a secret). */
  readonly random?: () => number;
  readonly onEvent?: (event: SchedulerEvent) => void;
  /**
   * Two-person approval requests: those that ended (approved and run, or expired) at least
   * `retentionMs` ago are removed on each tick.
   */
  readonly approvals?: {
    readonly store: Pick<ApprovalStore, 'purgeEnded'>;
    readonly retentionMs: number;
  };
}

/** What one tick did. */
export interface TickReport {
  /** False when another node held the leadership: nothing was done. */
  readonly leader: boolean;
  readonly resumed: readonly RotationResult[];
  readonly retired: readonly string[];
  readonly rotated: readonly RotationResult[];
  /** The secrets whose background work (a rewrap) this tick took up (it runs on). */
  readonly background: readonly string[];
  /** The ids of the ended approval requests removed. */
  readonly purged: readonly string[];
}

/**
 * The rotation scheduler: on each tick, if this node is the leader, it resumes runs crashed
 * nodes left, takes up background work (rewraps) nobody holds, retires `previous` values whose
 * grace ended (and whose background work succeeded), removes ended approval requests past
 * their retention, announces secrets within their `notify_before`, and rotates every automatic
 * policy that is due (once, however many due times a stopped server missed: the next due time
 * counts from the rotation), with jitter and a concurrency limit. Each rotation starts only if the secret's last run is still the one the
 * tick saw, so two nodes that both see it due rotate it once.
 *
 * @example
 * ```ts
 * const scheduler = createRotationScheduler({ engine, store, leader, clock: Date.now });
 * await scheduler.tick();
 * ```
 */
export interface RotationScheduler {
  tick(): Promise<TickReport>;
}

/** Creates the scheduler (the server runs `tick` every minute while unsealed). */
export function createRotationScheduler(options: RotationSchedulerOptions): RotationScheduler {
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const jitterMs = options.jitterMs ?? 30_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  const notified = new Set<string>();

  const dueSecrets = async (now: number) => {
    const due: { secret: string; after: string | null }[] = [];
    for (const secret of await options.store.listPolicies()) {
      const policy = await options.store.readPolicy(secret);
      if (policy === undefined) continue;
      const history = await options.store.history(secret);
      const last = [...history].reverse().find((r) => r.state === 'succeeded');
      const latest: RotationRun | undefined = await options.store.readRun(secret);
      const status = statusOf(secret, policy, last, latest, now);
      if (status.notify && !notified.has(`${secret}@${status.next_due}`)) {
        notified.add(`${secret}@${status.next_due}`);
        options.onEvent?.({ kind: 'notify', secret, due: status.next_due });
      }
      if (!policy.automatic || latest?.state === 'running') continue;
      // Not before the last rotation's background work (a rewrap) has succeeded.
      const job = await options.store.readJob(secret);
      if (job !== undefined && !jobEnded(job)) continue;
      if (!withinWindow(policy.schedule, policy.window, dueTime(policy, last), now)) continue;
      due.push({ secret, after: latest?.id ?? null });
    }
    return due;
  };

  return {
    async tick() {
      let report: TickReport = {
        leader: false,
        resumed: [],
        retired: [],
        rotated: [],
        background: [],
        purged: [],
      };
      const leader = await options.leader.run(async () => {
        const resumed = await options.engine.resumeAll(options.staleRunMs ?? 600_000);
        // Background work left by a node that died (or stopped), or failed and due again.
        const background = await options.engine.startBackground();
        const now = options.clock();
        const retired = await options.engine.retireDue(now);
        const purged =
          (await options.approvals?.store.purgeEnded(now, options.approvals.retentionMs)) ?? [];
        const queue = await dueSecrets(now);
        const rotated: RotationResult[] = [];
        const worker = async () => {
          for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
            if (jitterMs > 0) await sleep(Math.floor(random() * jitterMs));
            let result: RotationResult;
            try {
              // Read back by the mount table in force (a mount of several segments too).
              const ref = await options.engine.refOf(next.secret);
              result = await options.engine.rotate(ref, {
                by: 'scheduler',
                reason: 'scheduled',
                after: next.after,
              });
            } catch (err) {
              // The last rotation's background work is still running: due again next tick.
              if (isServerError(err, 'ERR_ROTATION_IN_PROGRESS')) continue;
              // Refused before it started (rotator gone, mount gone): the others still run;
              // `custos rotation status` shows it overdue.
              options.onEvent?.({ kind: 'rotated', secret: next.secret, result: 'failed' });
              continue;
            }
            if (result.result !== 'skipped') {
              rotated.push(result);
              options.onEvent?.({ kind: 'rotated', secret: next.secret, result: result.result });
            }
          }
        };
        await Promise.all(Array.from({ length: concurrency }, worker));
        report = { leader: true, resumed, retired, rotated, background, purged };
      });
      return { ...report, leader };
    },
  };
}
