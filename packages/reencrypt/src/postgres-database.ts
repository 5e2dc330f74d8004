import { CustosError } from '@custos/core/errors';
import { type CompiledQuery, type RawBuilder, sql } from 'kysely';
import { checkpointQueries, checkpointStore } from './checkpoint.js';
import { type AnyKysely, inTransaction, type ReencryptDatabase } from './database.js';
import { type QuotedTarget, quoteTarget } from './identifiers.js';
import { prepareQuery } from './prepared-query.js';
import type { Row, RowUpdate, TableTarget } from './types.js';

/** The queries of one target on PostgreSQL, each compiled once (after `inspect`). */
interface PostgresQueries {
  readonly count: CompiledQuery;
  readonly first: (values: { limit: number }) => CompiledQuery;
  readonly after: (values: { after: string; limit: number }) => CompiledQuery;
  readonly byIds: (values: { ids: string[] }) => CompiledQuery;
  /** The compare-and-swap update of a whole batch; parameters from {@link updateValues}. */
  readonly update: (values: Record<string, unknown>) => CompiledQuery;
}

/**
 * Re-encryption over a Kysely instance on PostgreSQL. A batch's updates are one statement
 * (`update … from unnest(…)`), in one transaction with the checkpoint.
 */
export function postgresReencryptDatabase(db: AnyKysely): ReencryptDatabase {
  const checkpoints = checkpointQueries(db);
  const idTypes = new Map<string, string>();
  const compiled = new WeakMap<TableTarget, PostgresQueries>();
  const queries = (target: TableTarget) => {
    let q = compiled.get(target);
    if (q === undefined) {
      const names = quoteTarget(target);
      const idType = idTypes.get(names.table);
      if (idType === undefined) {
        throw new CustosError('ERR_INVALID_ARGUMENT', 'inspect the target first');
      }
      q = compileQueries(db, target, names, idType);
      compiled.set(target, q);
    }
    return q;
  };

  return {
    async inspect(target) {
      const names = quoteTarget(target);
      const { rows } = await sql<{ name: string; type: string; category: string }>`
        select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, t.typcategory as category
        from pg_attribute a join pg_type t on t.oid = a.atttypid
        where a.attrelid = to_regclass(${names.table}) and a.attnum > 0 and not a.attisdropped`.execute(
        db,
      );
      if (rows.length === 0) {
        throw new CustosError('ERR_INVALID_ARGUMENT', `table ${names.table} does not exist`);
      }
      const byName = new Map(rows.map((r) => [r.name, r]));
      for (const column of [target.idColumn, ...target.columns, target.tenantColumn]) {
        if (column !== undefined && !byName.has(column)) {
          throw new CustosError(
            'ERR_INVALID_ARGUMENT',
            `table ${names.table} has no column ${column}`,
          );
        }
      }
      for (const column of target.columns) {
        const info = byName.get(column);
        if (info?.category !== 'S') {
          throw new CustosError(
            'ERR_INVALID_ARGUMENT',
            `${names.table}.${column} is ${info?.type}; ciphertexts need a text column (alter table … alter column ${column} type text)`,
          );
        }
      }
      idTypes.set(names.table, byName.get(target.idColumn)?.type as string);
    },
    async countRows(target) {
      const { rows } = await db.executeQuery<{ n: string }>(queries(target).count);
      return Number(rows[0]?.n ?? 0);
    },
    async readBatch(target, after, limit) {
      const q = queries(target);
      const query =
        after === undefined ? q.first({ limit }) : q.after({ after: String(after), limit });
      return (await db.executeQuery<Row>(query)).rows;
    },
    async readRows(target, ids) {
      return (await db.executeQuery<Row>(queries(target).byIds({ ids: ids.map(String) }))).rows;
    },
    async applyUpdates(target, updates, checkpoint) {
      if (updates.length === 0 && checkpoint === undefined) return [];
      const q = queries(target);
      return inTransaction(db, 'begin', async (connection) => {
        const appliedIds = new Set<string>();
        if (updates.length > 0) {
          const { rows } = await connection.executeQuery<{ id: string }>(
            q.update(updateValues(target, updates)),
          );
          for (const row of rows) appliedIds.add(row.id);
        }
        const applied = updates.map((u) => appliedIds.has(String(u.id)));
        if (checkpoint !== undefined && applied.every(Boolean)) {
          await connection.executeQuery(checkpoints.upsert(checkpoint));
        }
        return applied;
      });
    },
    ...checkpointStore(db, checkpoints),
  };
}

function compileQueries(
  db: AnyKysely,
  target: TableTarget,
  names: QuotedTarget,
  idType: string,
): PostgresQueries {
  const { table, idColumn: id } = target;
  const selected = [id, ...(target.tenantColumn ? [target.tenantColumn] : []), ...target.columns];
  const read = () => db.selectFrom(table).select(selected);
  // The id type comes from the catalog (`format_type`), never from the command line.
  const idArray = sql.raw(`${idType}[]`);
  return {
    count: db.selectFrom(table).select(sql<string>`count(*)`.as('n')).compile(),
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
    byIds: prepareQuery<'ids'>((p) =>
      read().where(sql<boolean>`${sql.ref(id)} = any(${p('ids')}::${idArray})`),
    ),
    update: prepareQuery<string>((p) => compilable(db, batchUpdate(names, idType, p))),
  };
}

/**
 * One statement for the whole batch: the rows' old and new values travel as parallel arrays
 * (`unnest`), each column is set only where that row changes it, and the WHERE compares every
 * changed column (and the tenant) with the value read: a row the application changed meanwhile
 * is not returned, so it is not counted as applied.
 */
function batchUpdate(
  names: QuotedTarget,
  idType: string,
  p: (name: string) => string,
): RawBuilder<unknown> {
  const arrays = [sql`${p('id')}::text[]`];
  const aliases = ['id'];
  const sets: RawBuilder<unknown>[] = [];
  const checks: RawBuilder<unknown>[] = [];
  names.columns.forEach((column, i) => {
    const name = sql.raw(column);
    arrays.push(sql`${p(`s${i}`)}::bool[]`, sql`${p(`o${i}`)}::text[]`, sql`${p(`n${i}`)}::text[]`);
    aliases.push(`s${i}`, `o${i}`, `n${i}`);
    sets.push(
      sql`${name} = case when v.${sql.raw(`s${i}`)} then v.${sql.raw(`n${i}`)} else t.${name} end`,
    );
    checks.push(
      sql`(not v.${sql.raw(`s${i}`)} or t.${name} is not distinct from v.${sql.raw(`o${i}`)})`,
    );
  });
  if (names.tenant !== undefined) {
    arrays.push(sql`${p('tenant')}::text[]`);
    aliases.push('tenant');
    checks.push(sql`t.${sql.raw(names.tenant)}::text is not distinct from v.tenant`);
  }
  const id = sql.raw(names.id);
  return sql`update ${sql.raw(names.table)} as t set ${sql.join(sets)}
from unnest(${sql.join(arrays)}) as v(${sql.raw(aliases.join(', '))})
where t.${id} = v.id::${sql.raw(idType)} and ${sql.join(checks, sql` and `)}
returning t.${id}::text as id`;
}

/** The parameters of {@link batchUpdate} for a batch. */
function updateValues(target: TableTarget, updates: readonly RowUpdate[]): Record<string, unknown> {
  const values: Record<string, unknown> = { id: updates.map((u) => String(u.id)) };
  target.columns.forEach((column, i) => {
    values[`s${i}`] = updates.map((u) => u.changes.has(column));
    values[`o${i}`] = updates.map((u) => textOrNull(u.changes.get(column)?.old));
    values[`n${i}`] = updates.map((u) => u.changes.get(column)?.next ?? null);
  });
  if (target.tenantColumn !== undefined) {
    values.tenant = updates.map((u) => textOrNull(u.tenant));
  }
  return values;
}

/** A raw SQL builder as something {@link prepareQuery} can compile. */
function compilable(db: AnyKysely, query: RawBuilder<unknown>) {
  return { compile: () => query.compile(db) };
}

function textOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}
