import { CustosError } from '@custos/core/errors';
import { type CompiledQuery, sql } from 'kysely';
import { checkpointQueries, checkpointStore } from './checkpoint.js';
import { type AnyKysely, inTransaction, type ReencryptDatabase } from './database.js';
import { quoteTarget } from './identifiers.js';
import { prepareQuery } from './prepared-query.js';
import type { Row, RowUpdate, TableTarget } from './types.js';

/** The queries of one target on SQLite, each compiled once. */
interface SqliteQueries {
  readonly count: CompiledQuery;
  readonly first: (values: { limit: number }) => CompiledQuery;
  readonly after: (values: { after: unknown; limit: number }) => CompiledQuery;
  readonly byId: (values: { id: unknown }) => CompiledQuery;
  /** The compare-and-swap update of one row, per set of changed columns. */
  readonly update: (
    columns: readonly string[],
  ) => (values: Record<string, unknown>) => CompiledQuery;
}

/**
 * Re-encryption over a Kysely instance on SQLite. Rows are updated one statement each (SQLite
 * has no array parameters), all in one `begin immediate` transaction per batch.
 */
export function sqliteReencryptDatabase(db: AnyKysely): ReencryptDatabase {
  const checkpoints = checkpointQueries(db);
  const compiled = new WeakMap<TableTarget, SqliteQueries>();
  const queries = (target: TableTarget) => {
    let q = compiled.get(target);
    if (q === undefined) {
      q = compileQueries(db, target);
      compiled.set(target, q);
    }
    return q;
  };

  return {
    async inspect(target) {
      const names = quoteTarget(target);
      const [schema, table] = target.table.includes('.')
        ? (target.table.split('.') as [string, string])
        : [undefined, target.table];
      const { rows } = await sql<{ name: string }>`pragma ${
        schema === undefined ? sql`` : sql`${sql.id(schema)}.`
      }table_info(${sql.id(table)})`.execute(db);
      if (rows.length === 0) {
        throw new CustosError('ERR_INVALID_ARGUMENT', `table ${names.table} does not exist`);
      }
      const existing = new Set(rows.map((c) => c.name));
      for (const column of [target.idColumn, ...target.columns, target.tenantColumn]) {
        if (column !== undefined && !existing.has(column)) {
          throw new CustosError(
            'ERR_INVALID_ARGUMENT',
            `table ${names.table} has no column ${column}`,
          );
        }
      }
    },
    async countRows(target) {
      const { rows } = await db.executeQuery<{ n: number }>(queries(target).count);
      return rows[0]?.n ?? 0;
    },
    async readBatch(target, after, limit) {
      const q = queries(target);
      const query = after === undefined ? q.first({ limit }) : q.after({ after, limit });
      return (await db.executeQuery<Row>(query)).rows;
    },
    async readRows(target, ids) {
      const q = queries(target);
      const rows: Row[] = [];
      for (const id of ids) rows.push(...(await db.executeQuery<Row>(q.byId({ id }))).rows);
      return rows;
    },
    async applyUpdates(target, updates, checkpoint) {
      const q = queries(target);
      // IMMEDIATE takes the write lock first, so a concurrent writer cannot deadlock the upgrade.
      return inTransaction(db, 'begin immediate', async (connection) => {
        const applied: boolean[] = [];
        for (const update of updates) {
          const result = await connection.executeQuery(updateQuery(q, update));
          applied.push(result.numAffectedRows === 1n);
        }
        if (checkpoint !== undefined && applied.every(Boolean)) {
          await connection.executeQuery(checkpoints.upsert(checkpoint));
        }
        return applied;
      });
    },
    ...checkpointStore(db, checkpoints),
  };
}

function compileQueries(db: AnyKysely, target: TableTarget): SqliteQueries {
  quoteTarget(target); // refuses unsafe names before any SQL is built
  const { table, idColumn: id } = target;
  const selected = [id, ...(target.tenantColumn ? [target.tenantColumn] : []), ...target.columns];
  const read = () => db.selectFrom(table).select(selected);
  const updates = new Map<string, (values: Record<string, unknown>) => CompiledQuery>();
  return {
    count: db.selectFrom(table).select(sql<number>`count(*)`.as('n')).compile(),
    first: prepareQuery<'limit'>((p) =>
      read()
        .orderBy(id)
        .limit(p('limit') as never),
    ),
    after: prepareQuery<'after' | 'limit'>((p) =>
      read()
        .where(id, '>', p('after'))
        .orderBy(id)
        .limit(p('limit') as never),
    ),
    byId: prepareQuery<'id'>((p) => read().where(id, '=', p('id'))),
    update(columns) {
      const key = columns.join(',');
      let query = updates.get(key);
      if (query === undefined) {
        query = prepareQuery<string>((p) =>
          db
            .updateTable(table)
            .set(Object.fromEntries(columns.map((c, i) => [c, p(`next${i}`)])))
            .where(id, '=', p('id'))
            .where((eb) =>
              eb.and([
                ...columns.map((c, i) => eb(c, 'is', p(`old${i}`))),
                ...(target.tenantColumn ? [eb(target.tenantColumn, 'is', p('tenant'))] : []),
              ]),
            ),
        );
        updates.set(key, query);
      }
      return query;
    },
  };
}

/** The update of one row: new values, the id, and the values read (compared with `is`). */
function updateQuery(q: SqliteQueries, update: RowUpdate): CompiledQuery {
  const columns = [...update.changes.keys()];
  const values: Record<string, unknown> = { id: update.id, tenant: bindable(update.tenant) };
  columns.forEach((column, i) => {
    const change = update.changes.get(column);
    values[`next${i}`] = change?.next;
    values[`old${i}`] = bindable(change?.old);
  });
  return q.update(columns)(values);
}

function bindable(value: unknown): unknown {
  return value === undefined ? null : value;
}
