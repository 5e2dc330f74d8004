import { createHmac, randomBytes } from 'node:crypto';
import { CustosError } from '@custos/core/errors';
import { type Barrier, retryOnConflict } from '../barrier/barrier.js';
import { barrierView } from '../barrier/barrier-view.js';
import { isServerError, ServerError } from '../errors.js';
import { ROTATION } from '../storage/layout.js';
import { type BackgroundJobStore, createBackgroundJobStore } from './background-jobs.js';
import type { RotationPolicy } from './rotation-policy.js';
import { createRunLeaseStore, type RunLeaseStore } from './run-lease.js';

/** The steps of a rotation, in order, and the two ends it may reach. */
export type RotationStep = 'create' | 'set' | 'test' | 'finish' | 'rollback';

/** Where a rotation is: running (a step is next), or ended. */
export type RunState = 'running' | 'succeeded' | 'rolled_back';

/** One step as it went. */
export interface StepRecord {
  /** `background`: an attempt at the rotator's background work, after the run ended. */
  readonly step: RotationStep | 'background';
  readonly result: 'ok' | 'failed' | 'skipped';
  readonly time: string;
  /** Why it failed (values scrubbed). */
  readonly error?: string;
}

/**
 * One rotation of one secret, persisted before each step (`step` is the step that runs next,
 * or ran last when it ended): after a crash, the engine runs `step` again.
 */
export interface RotationRun {
  readonly id: string;
  /** `<mount>/<key>`. */
  readonly secret: string;
  readonly rotator: string;
  /** A token accessor, or `scheduler`. */
  readonly by: string;
  readonly reason?: string;
  /** Who approved it (two-person approval): the identities, never a token. */
  readonly approved_by?: readonly string[];
  /** The KV version id of the pending version when not the rotation id (a client's token). */
  readonly version_id?: string;
  readonly started_time: string;
  step: RotationStep;
  state: RunState;
  /** The version that held `current` when the rotation started. */
  readonly from_version: number;
  /** The version written as `pending` (set once create wrote it). */
  pending_version?: number;
  steps: StepRecord[];
  /** Why it rolled back. */
  error?: string;
  ended_time?: string;
  /** Keyed fingerprints (never values) of the value replaced and the value made current. */
  old_fingerprint?: string;
  new_fingerprint?: string;
  /** When the replaced value stops working (the grace period's end), ISO. */
  retire_after?: string;
  /** Whether the replaced value was retired (its `previous` label removed, rotator told). */
  retired?: boolean;
  /**
   * Its background work was abandoned (`sys/rotation-abandon`): by whom, why, when. The value
   * it replaced is never retired automatically then: the operator decides.
   */
  abandoned?: { readonly by: string; readonly reason: string; readonly time: string };
  /** When the run was last saved (Unix ms). */
  saved_ms?: number;
  /** The node (engine instance) driving it while `running` (run-lease.ts). */
  owner?: string;
  /** Until when (Unix ms) `owner` holds it; past that, another node may take it over. */
  lease_until_ms?: number;
}

/**
 * Where the rotation engine keeps its state, behind the barrier (`sys/rotation/`): policies,
 * the run of each secret (the one in progress, else the last), the history of finished runs,
 * the background job of each secret's last rotation, and the key of value fingerprints.
 *
 * @example
 * ```ts
 * const store = createRotationStore(barrier);
 * await store.writePolicy('secret/app/db', policy);
 * ```
 */
export interface RotationStore extends BackgroundJobStore, RunLeaseStore {
  readPolicy(secret: string): Promise<RotationPolicy | undefined>;
  writePolicy(secret: string, policy: RotationPolicy): Promise<void>;
  /**
   * Replaces the secret's policy with what `change` makes of the one stored (undefined: left as
   * it is), at the revision read: a concurrent write or delete makes `change` run again on the
   * fresh policy, so a read-then-rewrite never loses another writer's policy. The policy in
   * force afterwards.
   */
  updatePolicy(
    secret: string,
    change: (
      before: RotationPolicy | undefined,
    ) => Promise<RotationPolicy | undefined> | RotationPolicy | undefined,
  ): Promise<RotationPolicy | undefined>;
  /** False when there was none. */
  deletePolicy(secret: string): Promise<boolean>;
  /** Every secret with a policy (`secret/app/db`), sorted. */
  listPolicies(): Promise<string[]>;
  readRun(secret: string): Promise<RotationRun | undefined>;
  /**
   * Starts `run` unless a rotation of the secret is running: true when it started, false when
   * another run holds the secret (one transaction: of two starters one gets false). With
   * `after`, only when the secret's last run is still the one with that id (`null`: none):
   * two schedulers that both found the secret due start it once. `ERR_NOT_FOUND` when the
   * secret has no policy (any more: its mount moved or was disabled).
   */
  startRun(run: RotationRun, after?: string | null): Promise<boolean>;
  /**
   * Persists a run's progress (only the run with its id and owner: a stale writer, or a node
   * whose run another node took over, is refused with `ERR_ROTATION_IN_PROGRESS`).
   */
  saveRun(run: RotationRun): Promise<void>;
  /** Every secret whose run is in progress. */
  listRunning(): Promise<string[]>;
  /** Every secret with a run (in progress or ended). */
  listRuns(): Promise<string[]>;
  /**
   * Adds an ended run to the secret's history (again: replaces its entry); nothing while the
   * secret has no run entry (its mount moved or was disabled since).
   */
  appendHistory(run: RotationRun): Promise<void>;
  /** The secret's history, oldest first. */
  history(secret: string): Promise<RotationRun[]>;
  /** `hmac-sha256:<hex>` of a value under the barrier-held fingerprint key. */
  fingerprint(data: Readonly<Record<string, unknown>>): Promise<string>;
}

/** The name of a run's history entry: `<start ms, 15 digits>-<rotation id>`. */
export const historyName = (run: Pick<RotationRun, 'started_time' | 'id'>): string =>
  `${String(Date.parse(run.started_time)).padStart(15, '0')}-${run.id}`;

/** A canonical JSON text: object keys sorted at every depth, so equal data fingerprints alike. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null)
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** Creates the rotation store on the barrier, narrowed to its area. */
export function createRotationStore(barrier: Barrier): RotationStore {
  const storage = barrierView(barrier, ROTATION.prefix);
  let fingerprintKey: Buffer | undefined;

  const key = async (): Promise<Buffer> => {
    if (fingerprintKey !== undefined) return fingerprintKey;
    const stored = await storage.read<{ key: string }>(ROTATION.fingerprintKey);
    if (stored !== undefined) {
      fingerprintKey = Buffer.from(stored.data.key, 'base64');
      return fingerprintKey;
    }
    try {
      await storage.create(ROTATION.fingerprintKey, { key: randomBytes(32).toString('base64') });
    } catch (err) {
      // Another node created it first: use theirs.
      if (!isServerError(err, 'ERR_VERSION_CONFLICT') && !isServerError(err, 'ERR_KEY_EXISTS'))
        throw err;
    }
    return key();
  };

  const names = async (prefix: string): Promise<string[]> =>
    (await storage.listPaths(prefix)).map((p) => p.slice(prefix.length)).sort();

  return {
    ...createBackgroundJobStore(storage),
    ...createRunLeaseStore(storage),
    readPolicy: async (secret) =>
      (await storage.read<RotationPolicy>(ROTATION.policy + secret))?.data,
    writePolicy: (secret, policy) => storage.write(ROTATION.policy + secret, policy),
    updatePolicy: (secret, change) =>
      retryOnConflict(async () => {
        const stored = await storage.read<RotationPolicy>(ROTATION.policy + secret);
        const next = await change(stored?.data);
        if (next === undefined) return stored?.data;
        // Both conflict when another writer came between the read and this write.
        if (stored === undefined) await storage.create(ROTATION.policy + secret, next);
        else await storage.replace(ROTATION.policy + secret, next, stored.revision);
        return next;
      }),
    async deletePolicy(secret) {
      if ((await storage.revision(ROTATION.policy + secret)) === undefined) return false;
      await storage.remove(ROTATION.policy + secret);
      return true;
    },
    listPolicies: () => names(ROTATION.policy),
    readRun: async (secret) => (await storage.read<RotationRun>(ROTATION.run + secret))?.data,
    // Read, then created or replaced at the revision read: a concurrent writer makes it a
    // conflict, retried on the fresh run. No `readLocked`: two transactions holding `FOR SHARE`
    // on the row and then updating it deadlock on PostgreSQL (40P01).
    startRun: (run, after) =>
      retryOnConflict(() =>
        storage.transaction(async (tx) => {
          // The policy is read under a share lock (PostgreSQL `FOR SHARE`; this transaction
          // never updates it, so starters do not deadlock or conflict on it): a mount moved or
          // disabled meanwhile (mount-lifecycle.ts, which replaces the policy first) either
          // waits for this start and then moves its run, or took the policy away, and no run
          // starts under the old name.
          const policy = await tx.readLocked<RotationPolicy>(ROTATION.policy + run.secret);
          if (policy === undefined)
            throw new CustosError('ERR_NOT_FOUND', `no rotation policy for ${run.secret}`);
          const stored = await tx.read<RotationRun>(ROTATION.run + run.secret);
          if (after !== undefined && (stored?.data.id ?? null) !== after) return false;
          if (stored === undefined) {
            await tx.create(ROTATION.run + run.secret, run);
            return true;
          }
          if (stored.data.state === 'running') return false;
          await tx.replace(ROTATION.run + run.secret, run, stored.revision);
          return true;
        }),
      ),
    saveRun: (run) =>
      retryOnConflict(() =>
        storage.transaction(async (tx) => {
          const stored = await tx.read<RotationRun>(ROTATION.run + run.secret);
          if (stored === undefined || stored.data.id !== run.id)
            throw new ServerError(
              'ERR_ROTATION_IN_PROGRESS',
              `the rotation of ${run.secret} is no longer stored under this name (replaced by another run, or its mount moved or was disabled)`,
            );
          if (stored.data.owner !== run.owner)
            throw new ServerError(
              'ERR_ROTATION_IN_PROGRESS',
              `the rotation of ${run.secret} was taken over by another node`,
            );
          await tx.replace(ROTATION.run + run.secret, run, stored.revision);
        }),
      ),
    async listRunning() {
      const out: string[] = [];
      for (const secret of await names(ROTATION.run)) {
        const run = (await storage.read<RotationRun>(ROTATION.run + secret))?.data;
        if (run?.state === 'running') out.push(secret);
      }
      return out;
    },
    listRuns: () => names(ROTATION.run),
    // Only while the secret's run entry is there, replaced at its revision in the same
    // transaction: a mount moved or disabled meanwhile (mount-lifecycle.ts) takes the run away
    // first, so an entry is never left under a name no mount has any more.
    appendHistory: (run) =>
      retryOnConflict(() =>
        storage.transaction(async (tx) => {
          const stored = await tx.read<RotationRun>(ROTATION.run + run.secret);
          if (stored === undefined) return;
          await tx.replace(ROTATION.run + run.secret, stored.data, stored.revision);
          await tx.write(`${ROTATION.history}${run.secret}/${historyName(run)}`, run);
        }),
      ),
    async history(secret) {
      const prefix = `${ROTATION.history}${secret}/`;
      const out: RotationRun[] = [];
      for (const entry of await names(prefix)) {
        if (entry.includes('/')) continue; // a deeper secret's history (secret/app/db/x)
        const run = (await storage.read<RotationRun>(prefix + entry))?.data;
        if (run !== undefined) out.push(run);
      }
      return out;
    },
    async fingerprint(data) {
      const mac = createHmac('sha256', await key())
        .update(canonical(data))
        .digest('hex');
      return `hmac-sha256:${mac}`;
    },
  };
}
