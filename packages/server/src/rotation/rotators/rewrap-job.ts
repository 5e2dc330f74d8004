import { setImmediate as turnOfTheEventLoop } from 'node:timers/promises';
import { decryptWithKey, encryptWithKey } from '@custos/core/internal/transit';
import {
  type AnyKysely,
  type ReencryptDatabase,
  type Row,
  type RowUpdate,
  reencryptDatabase,
} from '@custos/reencrypt';
import type { Barrier } from '../../barrier/barrier.js';
import { barrierView } from '../../barrier/barrier-view.js';
import { ROTATION } from '../../storage/layout.js';
import type { TransitStore } from '../../transit/transit-store.js';
import type { RewrapTarget } from './transit-key-settings.js';

/** Where one target's rewrap stands. */
export interface TargetProgress {
  readonly database: string;
  readonly table: string;
  readonly column: string;
  /** The last id done (keyset cursor), undefined before the first batch. */
  last_id?: string | number;
  rows: number;
  rewrapped: number;
  /** Already under the target version (or newer). */
  current: number;
  nulls: number;
  /** Values that are no transit ciphertext of the key or do not decrypt (left as they are). */
  failed: number;
  /** Rows the application changed while the batch was planned (its write was kept). */
  conflicts: number;
  done: boolean;
}

/** A rewrap job's progress, behind the barrier at `sys/rotation/rewrap/<rotation id>`. */
export interface RewrapProgress {
  readonly rotation_id: string;
  readonly key: string;
  readonly version: number;
  targets: TargetProgress[];
  updated_time: string;
}

/** Reads and saves rewrap progress behind the barrier. */
export interface RewrapProgressStore {
  read(rotationId: string): Promise<RewrapProgress | undefined>;
  save(progress: RewrapProgress): Promise<void>;
}

/** The progress store on the barrier. */
export function rewrapProgressStore(barrier: Barrier): RewrapProgressStore {
  const storage = barrierView(barrier, `${ROTATION.prefix}${ROTATION.rewrap}`);
  return {
    async read(rotationId) {
      return (await storage.read<RewrapProgress>(rotationId))?.data;
    },
    async save(progress) {
      await storage.write(progress.rotation_id, progress);
    },
  };
}

const VERSIONED = /^vault:v([1-9][0-9]{0,9}):/;

/** What to do with one stored value. */
type Plan =
  | { kind: 'null' | 'current' | 'failed' }
  | { kind: 'rewrap'; version: number; ciphertext: string };

function planValue(value: unknown, target: number): Plan {
  if (value === null || value === undefined) return { kind: 'null' };
  if (typeof value !== 'string') return { kind: 'failed' };
  const match = VERSIONED.exec(value);
  if (match === null) return { kind: 'failed' };
  const version = Number(match[1]);
  return version >= target ? { kind: 'current' } : { kind: 'rewrap', version, ciphertext: value };
}

/** What a rewrap job needs. */
export interface RewrapJobDeps {
  readonly transit: Pick<TransitStore, 'forEncryption'>;
  readonly progress: RewrapProgressStore;
  readonly database: (name: string) => AnyKysely | undefined;
  readonly now: () => number;
  /** Checked before each batch: the job stops (throws) once it aborts. */
  readonly signal?: AbortSignal;
}

/**
 * Rewraps the transit ciphertexts of every target to `version` of `key`, batch by batch
 * (keyset pagination and compare-and-swap updates of `@custos/reencrypt`), saving the last id
 * done behind the barrier after each batch: run again (after a crash), it continues from there.
 * A batch redone (the crash fell between its commit and the progress save) finds its values
 * current and skips them. Plaintexts live only between a decrypt and its encrypt.
 */
export async function runRewrap(
  deps: RewrapJobDeps,
  job: {
    readonly rotationId: string;
    readonly key: string;
    readonly version: number;
    readonly targets: readonly RewrapTarget[];
    readonly batchSize: number;
  },
): Promise<RewrapProgress> {
  const saved = await deps.progress.read(job.rotationId);
  const progress: RewrapProgress = saved ?? {
    rotation_id: job.rotationId,
    key: job.key,
    version: job.version,
    targets: job.targets.map((t) => ({
      database: t.database,
      table: t.table,
      column: t.column,
      rows: 0,
      rewrapped: 0,
      current: 0,
      nulls: 0,
      failed: 0,
      conflicts: 0,
      done: false,
    })),
    updated_time: new Date(deps.now()).toISOString(),
  };
  if (saved === undefined) await deps.progress.save(progress);
  for (const [i, target] of job.targets.entries()) {
    const state = progress.targets[i];
    if (state === undefined || state.done) continue;
    const kysely = deps.database(target.database);
    if (kysely === undefined)
      throw new Error(`no database named ${target.database} is configured on this server`);
    const db = reencryptDatabase(kysely);
    const table = { table: target.table, idColumn: target.idColumn, columns: [target.column] };
    await db.inspect(table);
    for (;;) {
      // SQLite answers synchronously: without a turn of the event loop between batches the
      // whole rewrap would run as one task, and the server would answer nothing until it ended.
      await turnOfTheEventLoop();
      deps.signal?.throwIfAborted();
      const rows = await db.readBatch(table, state.last_id, job.batchSize);
      if (rows.length === 0) break;
      await rewrapBatch(deps, db, table, target, job, state, rows);
      state.rows += rows.length;
      state.last_id = rows[rows.length - 1]?.[target.idColumn] as string | number;
      progress.updated_time = new Date(deps.now()).toISOString();
      await deps.progress.save(progress);
    }
    state.done = true;
    progress.updated_time = new Date(deps.now()).toISOString();
    await deps.progress.save(progress);
  }
  return progress;
}

async function rewrapBatch(
  deps: RewrapJobDeps,
  db: ReencryptDatabase,
  table: { table: string; idColumn: string; columns: string[] },
  target: RewrapTarget,
  job: { readonly key: string; readonly version: number },
  state: TargetProgress,
  rows: readonly Row[],
): Promise<void> {
  let pending = rows;
  // A row the application wrote meanwhile misses its compare-and-swap: read it again and plan
  // again (usually it is then current); after three tries it is left to the application.
  for (let attempt = 0; attempt < 3 && pending.length > 0; attempt++) {
    const plans = pending.map((row) => ({ row, plan: planValue(row[target.column], job.version) }));
    const toRewrap = plans.filter((p) => p.plan.kind === 'rewrap');
    for (const { plan } of plans) {
      if (plan.kind === 'null') state.nulls++;
      else if (plan.kind === 'current') state.current++;
    }
    const updates: RowUpdate[] = [];
    if (toRewrap.length > 0) {
      const versions = [
        ...new Set(toRewrap.map((p) => (p.plan as { version: number }).version)),
        job.version,
      ];
      const session = await deps.transit.forEncryption(job.key, toRewrap.length, versions);
      for (const { row, plan } of toRewrap) {
        if (plan.kind !== 'rewrap') continue;
        let next: string;
        try {
          const { plaintext } = decryptWithKey(session.view, { ciphertext: plan.ciphertext });
          try {
            next = encryptWithKey(await session.take(job.version), {
              plaintext,
              keyVersion: job.version,
            }).ciphertext;
          } finally {
            plaintext.fill(0);
          }
        } catch {
          state.failed++;
          continue;
        }
        updates.push({
          id: row[target.idColumn] as string | number,
          tenant: undefined,
          changes: new Map([[target.column, { old: plan.ciphertext, next }]]),
        });
      }
    }
    for (const { plan } of plans) if (plan.kind === 'failed') state.failed++;
    const applied = await db.applyUpdates(table, updates);
    state.rewrapped += applied.filter(Boolean).length;
    const missed = updates.filter((_, i) => !applied[i]).map((u) => u.id);
    pending = missed.length === 0 ? [] : await db.readRows(table, missed);
    if (attempt === 2) state.conflicts += pending.length;
  }
}
