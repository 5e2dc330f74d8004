import { AsyncResource } from 'node:async_hooks';
import type { CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { SqliteHandle } from '../database/sqlite-handle.js';

/** Runs one compiled query and answers its rows (and, for a write, the rows it changed). */
export type QueryRunner = <R>(query: CompiledQuery) => Promise<QueryResult<R>>;

/** The work of one transaction, given the runner of its statements. */
export type GroupedWork<T> = (run: QueryRunner) => Promise<T>;

/** Transactions of one SQLite connection, committed together when they queue up. */
export interface GroupCommit {
  /**
   * Runs `work` in a transaction of its own (a savepoint of the group's): its writes land, or
   * none. Answers once they are committed; a failure rolls back its own writes only.
   */
  run<T>(work: GroupedWork<T>): Promise<T>;
}

interface Job {
  readonly work: GroupedWork<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
}

/** How many transactions one commit may carry: readers outside transactions wait for it. */
const MAX_GROUP = 64;

/**
 * Group commit of the entry store's transactions on SQLite. SQLite runs one transaction at a
 * time on its connection, so under concurrent writes they queue; instead of a `BEGIN … COMMIT`
 * each, the transactions queued when one ends run in the same database transaction, each in a
 * savepoint of its own, and one COMMIT makes all of them durable (WAL: one append of the pages
 * they changed). Each is answered only after that COMMIT. A transaction whose work fails is
 * rolled back to its savepoint alone and answered at once; a COMMIT that fails, or an error that
 * ended SQLite's transaction, fails every transaction of the group that has not been answered.
 * (The first transaction of a group runs without a savepoint: its failure rolls back the
 * database transaction, which holds nothing else yet, and the group begins again.)
 * Transactions join a group only once it holds the write lock: those before that only read, and
 * are committed and answered before the next begins the group again on a current snapshot.
 * Statements run synchronously on the connection (better-sqlite3) while the group holds
 * Kysely's connection, so no statement from outside the group runs inside it.
 *
 * @example
 * ```ts
 * const group = createGroupCommit(db, sqliteHandleOf(db)!);
 * await group.run(async (run) => run(insertQuery));
 * ```
 */
export function createGroupCommit<DB>(db: Kysely<DB>, sqlite: SqliteHandle): GroupCommit {
  const queue: Job[] = [];
  let draining = false;
  // Whether the open group ran a writing statement (and so holds SQLite's write lock).
  let wrote = false;
  const run: QueryRunner = <R>(query: CompiledQuery) => {
    try {
      const statement = sqlite.prepare(query.sql);
      const parameters = query.parameters as unknown[];
      if (statement.reader) return Promise.resolve({ rows: statement.all(parameters) as R[] });
      wrote = true;
      const { changes } = statement.run(parameters);
      return Promise.resolve({ rows: [], numAffectedRows: BigInt(changes) });
    } catch (err) {
      return Promise.reject(err);
    }
  };

  /** A transaction control statement, prepared once (the statement cache keeps it). */
  const control = (sql: string) => {
    sqlite.prepare(sql).run();
  };

  /** One database transaction: the queued jobs, up to MAX_GROUP, then COMMIT. */
  const runGroup = async () => {
    const done: Array<{ job: Job; value: unknown }> = [];
    let failure: { reason: unknown } | undefined;
    try {
      // A transaction left open (a rollback that failed) would refuse every later `begin`.
      if (sqlite.inTransaction) control('rollback');
      control('begin');
      wrote = false;
    } catch (reason) {
      // No transaction to run them in (the database closed, or busy past its timeout).
      for (const job of queue.splice(0)) job.reject(reason);
      return;
    }
    try {
      for (let taken = 0, job = queue.shift(); job !== undefined; job = queue.shift()) {
        // A savepoint only where there is something to keep: the first job's failure rolls
        // back the whole transaction, and the group begins again.
        let guarded = done.length > 0;
        let saved = false;
        try {
          if (guarded && !wrote) {
            // The transactions before only read: the group holds a read snapshot (WAL) but no
            // write lock, so another connection to the file may have committed since, and a
            // write on that snapshot would fail (SQLITE_BUSY_SNAPSHOT, which no busy timeout
            // waits out) — for every later transaction of the group. They end here, and this
            // one begins the group again on a current snapshot.
            control('commit');
            for (const ended of done.splice(0)) ended.job.resolve(ended.value);
            guarded = false;
            control('begin');
            wrote = false;
          }
          // In the try: a savepoint that cannot be opened (the database closed under the
          // group) fails this job too, which is no longer in the queue to be refused later.
          if (guarded) control('savepoint custos_grouped');
          saved = guarded;
          const value = await job.work(run);
          if (guarded) control('release custos_grouped');
          done.push({ job, value });
        } catch (reason) {
          job.reject(reason);
          if (!guarded) {
            if (sqlite.inTransaction) control('rollback');
            control('begin');
            wrote = false;
          } else if (saved && sqlite.inTransaction) {
            control('rollback to custos_grouped');
            control('release custos_grouped');
          } else {
            // SQLite ended the whole transaction (SQLITE_FULL, SQLITE_IOERR…): the jobs before
            // this one lost their writes too. Or no savepoint could be opened: nothing tells
            // this job's writes from theirs, so the group fails.
            throw reason;
          }
        }
        taken += 1;
        if (taken >= MAX_GROUP) break;
      }
      control('commit');
    } catch (reason) {
      failure = { reason };
      try {
        if (sqlite.inTransaction) control('rollback');
      } catch {
        // The group failed anyway; the next group rolls back what is still open first.
      }
    }
    for (const { job, value } of done) {
      if (failure === undefined) job.resolve(value);
      else job.reject(failure.reason);
    }
  };

  const drain = async () => {
    draining = true;
    try {
      while (queue.length > 0) await db.connection().execute(runGroup);
    } catch (reason) {
      // The connection could not be had (the database closed): nothing queued can run.
      for (const job of queue.splice(0)) job.reject(reason);
    } finally {
      draining = false;
    }
  };

  return {
    run<T>(work: GroupedWork<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        // Run in its caller's async context (AsyncLocalStorage), not in the group's. (Not
        // `AsyncResource.bind`: on Node 20 it also defines a deprecated property on every bound
        // function, ~1.5 % of a KV write's CPU.)
        const context = new AsyncResource('custos.grouped-transaction');
        const inContext: GroupedWork<T> = (run) => context.runInAsyncScope(work, undefined, run);
        queue.push({ work: inContext, resolve: resolve as (value: unknown) => void, reject });
        if (!draining) void drain();
      });
    },
  };
}
