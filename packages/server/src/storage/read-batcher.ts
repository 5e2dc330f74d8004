import { CompiledQuery, type Kysely } from 'kysely';
import type { StorageSchema } from './schema.js';

/** The most paths one batched query asks for; more wait for the next one. */
export const BATCH_LIMIT = 256;

/** Reads of single entries that share one query with the reads of the same event-loop turn. */
export interface ReadBatcher<Row> {
  /** The row of `path`, or undefined; read by a query sent after this call. */
  read(path: string): Promise<Row | undefined>;
}

/**
 * Coalesces the single-path reads made in one event-loop turn (by any number of concurrent
 * requests) into one query, `where path = any($1)`, sent at the end of the turn. Each caller's
 * query starts after its call, so it sees every write committed before the call: what a read
 * may observe is exactly what a query of its own would (a write made on this node or another
 * before the read is never missed); only the round trips are shared. The same path asked twice
 * in a turn is asked once. PostgreSQL only (an array parameter; SQLite has no round trip to
 * save).
 *
 * @example
 * ```ts
 * const revisions = createReadBatcher<{ revision: number }>(db, ['revision']);
 * await revisions.read('sys/mounts/table'); // { revision: 3 } or undefined
 * ```
 */
export function createReadBatcher<Row extends object>(
  db: Kysely<StorageSchema>,
  columns: readonly ('value' | 'revision')[],
): ReadBatcher<Row> {
  const sql = `select "path", ${columns.map((c) => `"${c}"`).join(', ')} from "custos_entries" where "path" = any($1::text[])`;
  let pending = new Map<string, ((outcome: Outcome<Row>) => void)[]>();
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    const batch = new Map<string, ((outcome: Outcome<Row>) => void)[]>();
    for (const [path, waiters] of pending) {
      if (batch.size >= BATCH_LIMIT) break;
      batch.set(path, waiters);
    }
    for (const path of batch.keys()) pending.delete(path);
    if (pending.size > 0) schedule();
    else pending = new Map();
    db.executeQuery<Row & { path: string }>(CompiledQuery.raw(sql, [[...batch.keys()]])).then(
      ({ rows }) => {
        const found = new Map(rows.map((row) => [row.path, row]));
        for (const [path, waiters] of batch) {
          const row = found.get(path);
          for (const settle of waiters) settle({ row });
        }
      },
      (error: unknown) => {
        for (const waiters of batch.values()) for (const settle of waiters) settle({ error });
      },
    );
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  return {
    read(path) {
      return new Promise<Row | undefined>((resolve, reject) => {
        const waiters = pending.get(path) ?? [];
        waiters.push((outcome) =>
          'error' in outcome ? reject(outcome.error) : resolve(outcome.row),
        );
        pending.set(path, waiters);
        schedule();
      });
    },
  };
}

type Outcome<Row> = { row: Row | undefined } | { error: unknown };
