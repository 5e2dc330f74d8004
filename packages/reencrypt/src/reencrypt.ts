import { CustosError, KeyNotFound } from '@custos/core/errors';
import type { AnyFieldCipher, PaddingOptions } from '@custos/core/fields';
import {
  type BlindIndexColumns,
  type BlindIndexSettings,
  planBlindIndexRow,
  verifyBlindIndexRow,
} from './blind-index-plan.js';
import type { AnyKysely, ReencryptDatabase } from './database.js';
import { reencryptDatabase } from './dialect.js';
import { addCounts, type PlanSettings, planRow, type RowPlan } from './row-plan.js';
import type { Checkpoint, Row, RowId, RowUpdate, RunStats, TableTarget } from './types.js';
import { emptyStats } from './types.js';
import { type ContextBinding, contextFor, decrypts, inspectValue } from './value-plan.js';

/** Options of {@link reencryptTable}. */
export interface ReencryptOptions extends RunOptions {
  /**
   * The application's Kysely instance on SQLite or PostgreSQL (any driver; not a transaction:
   * the run commits one transaction per batch). custos never opens or closes it; its plugins
   * are not applied to the run's queries.
   */
  readonly db: AnyKysely;
}

/** What a run does, whatever database it runs on. */
export interface RunOptions {
  readonly cipher: AnyFieldCipher;
  readonly target: TableTarget;
  /** The table name bound into ciphertexts; default the table name without its schema. */
  readonly contextTable?: string;
  /** Whether the application binds values to rows (row id = the id column); default true. */
  readonly bindRowId?: boolean;
  /** Columns whose plaintext is encrypted deterministically (`encryptPlaintext`). */
  readonly deterministicColumns?: readonly string[];
  /** Also encrypt plaintext values (migrating an existing column). */
  readonly encryptPlaintext?: boolean;
  /**
   * Rewrite blind indexes instead of re-encrypting: for each of these encrypted columns (all in
   * `target.columns`), every index not under the blind-index key's primary version (older
   * versions, legacy `v<n>.` indexes) is recomputed from the decrypted value. Values are not
   * re-encrypted. A run of its own, with its own checkpoint; counts land in `reencrypted`
   * (indexes rewritten) and `current`.
   */
  readonly blindIndexes?: BlindIndexColumns;
  /** Padding for plaintext being encrypted (re-encrypted values keep theirs). */
  readonly padding?: PaddingOptions;
  /** Rows per batch and transaction; default 1000. */
  readonly batchSize?: number;
  /** Count what would change; write nothing (not even a checkpoint). */
  readonly dryRun?: boolean;
  /** Read every row again at the end and check it decrypts under the primary; default true. */
  readonly verify?: boolean;
  readonly onProgress?: (progress: ReencryptProgress) => void;
  /** Stops between batches; the checkpoint lets the next run resume. */
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
}

/** Reported after every batch. */
export interface ReencryptProgress {
  readonly phase: 'reencrypt' | 'verify';
  /** Rows done in this phase (including before a resume). */
  readonly rowsDone: number;
  /** Rows in the table when the run started. */
  readonly rowsTotal: number;
  readonly stats: RunStats;
}

/** The outcome of a run. */
export interface ReencryptReport {
  readonly runKey: string;
  readonly dryRun: boolean;
  /** Whether the run resumed from a checkpoint. */
  readonly resumed: boolean;
  readonly rowsTotal: number;
  readonly stats: RunStats;
  /** Verification ran and found nothing failing, not current, or (when encrypting) plaintext. */
  readonly complete: boolean;
}

const MAX_CONFLICT_ROUNDS = 5;

/**
 * Re-encrypts every value of `target.columns` that is not under the primary key version (and,
 * with `encryptPlaintext`, encrypts plaintext), in batches read by keyset pagination, one
 * transaction per batch with the checkpoint saved in it. Every update is a compare-and-swap on
 * the value read, so a row the application changed meanwhile keeps the application's value. A
 * killed run resumes from its checkpoint; a final pass reads every row and checks it decrypts
 * under the primary. See `NOTES.md` for the state machine.
 *
 * @example
 * ```ts
 * const report = await reencryptTable({
 *   db, // the application's Kysely instance
 *   cipher: createFieldCipher({ keyring }),
 *   target: { table: 'patients', idColumn: 'id', columns: ['ssn', 'email'] },
 * });
 * if (!report.complete) process.exitCode = 1;
 * ```
 */
export async function reencryptTable(options: ReencryptOptions): Promise<ReencryptReport> {
  const { db, ...run } = options;
  return reencryptWith(reencryptDatabase(db), run);
}

/** {@link reencryptTable} over any {@link ReencryptDatabase} (tests interpose on it). */
export async function reencryptWith(
  database: ReencryptDatabase,
  options: RunOptions,
): Promise<ReencryptReport> {
  const { cipher, target } = options;
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'batch size must be from 1 to 100000');
  }
  const now = options.now ?? (() => new Date());
  const dryRun = options.dryRun === true;
  const settings: PlanSettings = {
    cipher,
    target,
    binding: bindingOf(options),
    encryptPlaintext: options.encryptPlaintext === true,
  };
  const { blindIndex: blindIndexKey, ...encryptionKeys } = await cipher.currentKeys();
  const indexRun =
    options.blindIndexes === undefined
      ? undefined
      : blindIndexRun(settings, options.blindIndexes, blindIndexKey?.keyVersion);
  const readTarget = indexRun?.target ?? target;
  await database.inspect(readTarget);
  const runKey =
    indexRun?.runKey ??
    `${target.table}|${target.idColumn}|${[...target.columns].sort().join(',')}`;
  const targetKeys = JSON.stringify(indexRun === undefined ? encryptionKeys : blindIndexKey);
  const rowsTotal = await database.countRows(readTarget);
  const planOne = (row: Row): Promise<RowPlan> =>
    indexRun === undefined ? planRow(settings, row) : planBlindIndexRow(indexRun, row);
  const verifyOne = (row: Row): Promise<Partial<RunStats>> =>
    indexRun === undefined ? verifyRow(settings, row) : verifyBlindIndexRow(indexRun, row);

  let checkpoint: Checkpoint | undefined;
  if (!dryRun) {
    await database.ensureCheckpointTable();
    const saved = await database.loadCheckpoint(runKey);
    if (saved !== undefined && saved.targetKeys === targetKeys && saved.phase !== 'done') {
      checkpoint = saved;
    }
  }
  const resumed = checkpoint !== undefined;
  const startedAt = now().toISOString();
  let state: Checkpoint = checkpoint ?? {
    runKey,
    targetKeys,
    phase: 'reencrypt',
    lastId: undefined,
    stats: emptyStats(),
    startedAt,
    updatedAt: startedAt,
  };
  const next = (changes: Partial<Checkpoint>): Checkpoint => ({
    ...state,
    ...changes,
    updatedAt: now().toISOString(),
  });
  const report = (phase: ReencryptProgress['phase'], rowsDone: number) =>
    options.onProgress?.({ phase, rowsDone, rowsTotal, stats: state.stats });

  if (state.phase === 'reencrypt') {
    report('reencrypt', state.stats.rows);
    for (;;) {
      options.signal?.throwIfAborted();
      const rows = await database.readBatch(readTarget, state.lastId, batchSize);
      if (rows.length === 0) break;
      const lastId = lastIdOf(rows, target);
      const { counts, checkpointSaved } = await reencryptBatch(
        readTarget,
        planOne,
        database,
        rows,
        dryRun,
        (candidate) => next({ lastId, stats: addCounts(state.stats, candidate) }),
      );
      state = next({ lastId, stats: addCounts(state.stats, { ...counts, rows: rows.length }) });
      if (!dryRun && !checkpointSaved) await database.saveCheckpoint(state);
      report('reencrypt', state.stats.rows);
    }
    state = next({
      phase: options.verify === false || dryRun ? 'done' : 'verify',
      lastId: undefined,
    });
    if (!dryRun) await database.saveCheckpoint(state);
  }

  if (state.phase === 'verify' && options.verify === false) {
    // Resumed in the verification pass, but asked not to verify.
    state = next({ phase: 'done', lastId: undefined });
    await database.saveCheckpoint(state);
  }
  if (state.phase === 'verify') {
    report('verify', state.stats.verifyRows);
    for (;;) {
      options.signal?.throwIfAborted();
      const rows = await database.readBatch(readTarget, state.lastId, batchSize);
      if (rows.length === 0) break;
      const counts = await verifyBatch(verifyOne, rows);
      state = next({
        lastId: lastIdOf(rows, target),
        stats: addCounts(state.stats, { ...counts, verifyRows: rows.length }),
      });
      await database.saveCheckpoint(state);
      report('verify', state.stats.verifyRows);
    }
    state = next({ phase: 'done', lastId: undefined });
    await database.saveCheckpoint(state);
  }

  const { stats } = state;
  const verified = !dryRun && options.verify !== false;
  return {
    runKey,
    dryRun,
    resumed,
    rowsTotal,
    stats,
    complete:
      verified &&
      stats.verifyFailed === 0 &&
      (!settings.encryptPlaintext || stats.verifyPlaintext === 0),
  };
}

/**
 * Plans and applies one batch. The checkpoint goes into the batch's transaction; when some rows
 * were changed by the application meanwhile, that transaction commits without it, the rows are
 * read again and retried, and the caller saves the checkpoint afterwards.
 */
async function reencryptBatch(
  target: TableTarget,
  planOne: (row: Row) => Promise<RowPlan>,
  database: ReencryptDatabase,
  rows: readonly Row[],
  dryRun: boolean,
  checkpointFor: (counts: Partial<RunStats>) => Checkpoint,
): Promise<{ counts: Partial<RunStats>; checkpointSaved: boolean }> {
  let counts: Partial<RunStats> = {};
  let pending: { update: RowUpdate; counts: Partial<RunStats> }[] = [];
  const plan = async (batch: readonly Row[]) => {
    pending = [];
    for (const row of batch) {
      const { update, counts: rowCounts } = await planOne(row);
      if (update === undefined || dryRun) counts = merge(counts, rowCounts);
      else pending.push({ update, counts: rowCounts });
    }
  };
  await plan(rows);
  if (pending.length === 0) return { counts, checkpointSaved: false };
  const conflicted = new Set<string>();
  const assumingAllApply = pending.reduce((sum, p) => merge(sum, p.counts), counts);
  let checkpoint: Checkpoint | undefined = checkpointFor({
    ...assumingAllApply,
    rows: rows.length,
  });
  for (let round = 0; pending.length > 0 && round <= MAX_CONFLICT_ROUNDS; round++) {
    const applied = await database.applyUpdates(
      target,
      pending.map((p) => p.update),
      checkpoint,
    );
    const missed = pending.filter((_, i) => !applied[i]);
    for (const [i, p] of pending.entries()) if (applied[i]) counts = merge(counts, p.counts);
    if (missed.length === 0) {
      return { counts: withConflicts(counts, conflicted), checkpointSaved: round === 0 };
    }
    // The application wrote these rows since they were read: read them again and re-plan.
    for (const p of missed) conflicted.add(String(p.update.id));
    checkpoint = undefined;
    await plan(
      await database.readRows(
        target,
        missed.map((p) => p.update.id),
      ),
    );
  }
  // Rows still changing after every round are left to the verification pass and the next run.
  return { counts: withConflicts(counts, conflicted), checkpointSaved: false };
}

function withConflicts(counts: Partial<RunStats>, conflicted: ReadonlySet<string>) {
  return conflicted.size === 0 ? counts : merge(counts, { conflicts: conflicted.size });
}

/**
 * The id to page on from a batch. Paging is by `id > last`, so a row whose id is NULL could be
 * neither paged past nor updated by id: such a table is refused before its batch is written.
 */
function lastIdOf(rows: readonly Row[], target: TableTarget): RowId {
  for (const row of rows) {
    const id = row[target.idColumn];
    if (id === null || id === undefined) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `${target.table}.${target.idColumn} is NULL in some rows; reencrypt pages through a table by a unique, non-NULL id column`,
      );
    }
  }
  return rows.at(-1)?.[target.idColumn] as RowId;
}

/** Checks every row of a batch. */
async function verifyBatch(
  verifyOne: (row: Row) => Promise<Partial<RunStats>>,
  rows: readonly Row[],
) {
  let counts: Partial<RunStats> = {};
  for (const row of rows) counts = merge(counts, await verifyOne(row));
  return counts;
}

/** Checks every value of a row: NULL, or a current ciphertext that decrypts. */
async function verifyRow(settings: PlanSettings, row: Row) {
  const counts: Partial<RunStats> = {};
  const bump = (key: keyof RunStats) => {
    counts[key] = (counts[key] ?? 0) + 1;
  };
  for (const column of settings.target.columns) {
    const value = row[column];
    const state = await inspectValue(settings.cipher, value);
    if (state.kind === 'null') continue;
    if (state.kind === 'plaintext') bump('verifyPlaintext');
    else if (state.kind === 'malformed' || !state.info.current) bump('verifyFailed');
    else {
      const context = contextFor(settings.binding, settings.target, row, column);
      bump(
        (await decrypts(settings.cipher, value as string, context, state.info))
          ? 'verified'
          : 'verifyFailed',
      );
    }
  }
  return counts;
}

/**
 * The settings of a blind-index backfill: the columns read (values, then their indexes), its
 * own run key, and the primary version indexes are rewritten to.
 */
function blindIndexRun(
  settings: PlanSettings,
  indexes: BlindIndexColumns,
  primaryVersion: number | undefined,
): BlindIndexSettings & { runKey: string } {
  const { target } = settings;
  const columns = Object.keys(indexes);
  if (columns.length === 0) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'name at least one blind index to rewrite');
  }
  if (settings.encryptPlaintext) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'a blind-index run only rewrites indexes; encrypt plaintext in a run of its own first',
    );
  }
  for (const column of columns) {
    if (!target.columns.includes(column)) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `the blind index of ${column} needs ${column} among the encrypted columns`,
      );
    }
  }
  if (primaryVersion === undefined) {
    throw new KeyNotFound(
      'rewriting blind indexes needs the blind-index key: pass the keyring holding it',
    );
  }
  const indexColumns = columns.map((c) => indexes[c]?.indexColumn as string);
  const pairs = columns.map((c, i) => `${c}=${indexColumns[i]}`).sort();
  return {
    cipher: settings.cipher,
    target: { ...target, columns: [...columns, ...indexColumns] },
    binding: settings.binding,
    indexes,
    primaryVersion,
    runKey: `blind-index|${target.table}|${target.idColumn}|${pairs.join(',')}`,
  };
}

function bindingOf(options: RunOptions): ContextBinding {
  return {
    contextTable: options.contextTable ?? (options.target.table.split('.').at(-1) as string),
    bindRowId: options.bindRowId !== false,
    deterministicColumns: new Set(options.deterministicColumns ?? []),
    padding: options.padding,
  };
}

function merge(a: Partial<RunStats>, b: Partial<RunStats>): Partial<RunStats> {
  const out = { ...a };
  for (const [key, n] of Object.entries(b) as [keyof RunStats, number][]) {
    out[key] = (out[key] ?? 0) + n;
  }
  return out;
}
