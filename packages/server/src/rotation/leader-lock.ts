import { type Kysely, sql } from 'kysely';

/**
 * Who may run the scheduler: one node of a cluster at a time. `run` calls `work` only while
 * this node holds the leadership, and answers false (without calling it) when another does.
 */
export interface LeaderLock {
  run(work: () => Promise<void>): Promise<boolean>;
}

/** The advisory lock key of the rotation scheduler (a fixed 64-bit number: "custos-rot"). */
export const ROTATION_LOCK_KEY = 0x637573746f73n; // 'custos' in ASCII

/**
 * Leadership by a PostgreSQL session advisory lock, held on one pooled connection for the
 * duration of `work` (`pg_try_advisory_lock`, released with `pg_advisory_unlock`; if the node
 * dies, PostgreSQL releases it with the connection). Several servers on one database: one runs
 * a scheduler tick at a time, the others skip theirs.
 *
 * @example
 * ```ts
 * const leader = postgresLeaderLock(storage.db);
 * await leader.run(() => scheduler.tick());
 * ```
 */
export function postgresLeaderLock(db: Kysely<unknown>, key = ROTATION_LOCK_KEY): LeaderLock {
  return {
    run: (work) =>
      db.connection().execute(async (connection) => {
        const locked = await sql<{
          locked: boolean;
        }>`SELECT pg_try_advisory_lock(${key.toString()}::bigint) AS locked`.execute(connection);
        if (locked.rows[0]?.locked !== true) return false;
        try {
          await work();
        } finally {
          await sql`SELECT pg_advisory_unlock(${key.toString()}::bigint)`.execute(connection);
        }
        return true;
      }),
  };
}

/**
 * Leadership on SQLite: the single node is the leader. Ticks of this node never overlap (the
 * scheduler does not start one while another runs).
 */
export function singleNodeLeader(): LeaderLock {
  return {
    async run(work) {
      await work();
      return true;
    },
  };
}
