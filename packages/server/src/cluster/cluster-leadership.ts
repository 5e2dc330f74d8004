import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { LeaderLock } from '../rotation/leader-lock.js';
import { ROTATION_LOCK_KEY } from '../rotation/leader-lock.js';

/**
 * The advisory lock key of a cluster's leadership: the rotation scheduler's key, or, when the
 * tables live in a named schema, a key derived from the schema (deployments sharing a database
 * in different schemas are different clusters).
 */
export function leadershipLockKey(schema: string | undefined): bigint {
  if (schema === undefined) return ROTATION_LOCK_KEY;
  return createHash('sha256').update(`custos-leader:${schema}`).digest().readBigInt64BE(0);
}

/** Leadership of a cluster of nodes on one PostgreSQL database. */
export interface ClusterLeadership {
  /** Whether this node holds the lock now. */
  isLeader(): boolean;
  /** The backend process id of this node's lock session (to find the leader in `pg_locks`). */
  sessionPid(): number | undefined;
  /** The backend process id holding the lock now, if any node does. */
  holderPid(): Promise<number | undefined>;
  /** The scheduler's view: run `work` only while this node leads. */
  asLeaderLock(): LeaderLock;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Leadership by a PostgreSQL session advisory lock held on one pooled connection while the node
 * is unsealed: the node tries `pg_try_advisory_lock` every `intervalMs` until it holds it, then
 * checks its session is alive at the same pace; if the session breaks, PostgreSQL releases the
 * lock and another node takes it at its next try. One leader per cluster; it runs the periodic
 * jobs (rotation schedules).
 *
 * @example
 * ```ts
 * const leadership = postgresLeadership(storage.db, leadershipLockKey(storage.schema));
 * leadership.start();
 * ```
 */
export function postgresLeadership(
  db: Kysely<unknown>,
  key: bigint,
  intervalMs = 2_000,
): ClusterLeadership {
  let leader = false;
  let pid: number | undefined;
  let running: Promise<void> | undefined;
  let stopping = false;
  let wake: (() => void) | undefined;
  const pause = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const session = () =>
    db.connection().execute(async (connection) => {
      const self = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(connection);
      pid = self.rows[0]?.pid;
      try {
        while (!stopping) {
          if (!leader) {
            const locked = await sql<{
              locked: boolean;
            }>`SELECT pg_try_advisory_lock(${key.toString()}::bigint) AS locked`.execute(
              connection,
            );
            leader = locked.rows[0]?.locked === true;
          } else {
            await sql`SELECT 1`.execute(connection);
          }
          await pause();
        }
        if (leader)
          await sql`SELECT pg_advisory_unlock(${key.toString()}::bigint)`.execute(connection);
      } finally {
        leader = false;
        pid = undefined;
      }
    });

  const loop = async () => {
    while (!stopping) {
      // A broken session (PostgreSQL restarted, network cut) ends; a new one tries again.
      await session().catch(() => {});
      if (!stopping) await pause();
    }
  };

  return {
    isLeader: () => leader,
    sessionPid: () => pid,
    async holderPid() {
      const low = key & 0xffffffffn;
      const high = (key >> 32n) & 0xffffffffn;
      const rows = await sql<{ pid: number }>`SELECT pid FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND objsubid = 1
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND classid::bigint = ${high.toString()}::bigint AND objid::bigint = ${low.toString()}::bigint`.execute(
        db,
      );
      return rows.rows[0]?.pid;
    },
    asLeaderLock: () => ({
      async run(work) {
        if (!leader) return false;
        await work();
        return true;
      },
    }),
    start() {
      if (running !== undefined) return;
      stopping = false;
      running = loop();
    },
    async stop() {
      stopping = true;
      wake?.();
      await running;
      running = undefined;
    },
  };
}
