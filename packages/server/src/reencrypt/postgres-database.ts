import { CustosError } from '@custos/core/errors';
import pg from 'pg';
import {
  CREATE_CHECKPOINT_TABLE,
  checkpointFromRow,
  checkpointParameters,
  selectCheckpointSql,
  upsertCheckpointSql,
} from './checkpoint.js';
import type { ReencryptDatabase } from './database.js';
import { type QuotedTarget, quoteTarget } from './identifiers.js';
import type { Row, RowUpdate, TableTarget } from './types.js';

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Connects to PostgreSQL for re-encryption. `?schema=name` in the URL sets the search path (the
 * table and the checkpoint table live there).
 *
 * @example
 * ```ts
 * const db = await openPostgresReencryptDatabase('postgres://app@db:5432/app?schema=clinic');
 * ```
 */
export async function openPostgresReencryptDatabase(location: string): Promise<ReencryptDatabase> {
  const url = new URL(location);
  const schema = url.searchParams.get('schema');
  url.searchParams.delete('schema');
  if (schema !== null && !SCHEMA.test(schema)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'schema must be a lowercase SQL identifier');
  }
  const pool = new pg.Pool({
    connectionString: url.toString(),
    max: 2,
    ...(schema === null ? {} : { options: `-c search_path=${schema}` }),
  });
  try {
    await pool.query('select 1');
  } catch (err) {
    await pool.end();
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `cannot connect to PostgreSQL at ${url.host}: ${(err as Error).message}`,
    );
  }
  url.password = '';
  url.username = '';
  return postgresReencryptDatabase(pool, {
    description: `postgres ${url.host}${url.pathname}${schema ? ` schema ${schema}` : ''}`,
    close: () => pool.end(),
  });
}

/**
 * Re-encryption over a pg pool (the caller keeps ownership unless `close` is given).
 *
 * @example
 * ```ts
 * const db = postgresReencryptDatabase(pool);
 * ```
 */
export function postgresReencryptDatabase(
  pool: pg.Pool,
  options: { description?: string; close?: () => Promise<void> } = {},
): ReencryptDatabase {
  const quoted = new WeakMap<TableTarget, QuotedTarget>();
  const idTypes = new Map<string, string>();
  const q = (target: TableTarget) => {
    let names = quoted.get(target);
    if (names === undefined) {
      names = quoteTarget(target);
      quoted.set(target, names);
    }
    return names;
  };
  const selectList = (names: QuotedTarget) =>
    [names.id, ...(names.tenant ? [names.tenant] : []), ...names.columns].join(', ');
  const idType = (names: QuotedTarget) => {
    const type = idTypes.get(names.table);
    if (type === undefined)
      throw new CustosError('ERR_INVALID_ARGUMENT', 'inspect the target first');
    return type;
  };

  return {
    kind: 'postgres',
    description: options.description ?? 'postgres',
    async inspect(target) {
      const names = q(target);
      const { rows } = await pool.query<{ name: string; type: string; category: string }>(
        `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, t.typcategory as category
         from pg_attribute a join pg_type t on t.oid = a.atttypid
         where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped`,
        [names.table],
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
      const { rows } = await pool.query<{ n: string }>(
        `select count(*) as n from ${q(target).table}`,
      );
      return Number(rows[0]?.n ?? 0);
    },
    async readBatch(target, after, limit) {
      const names = q(target);
      const sql =
        after === undefined
          ? `select ${selectList(names)} from ${names.table} order by ${names.id} limit $1`
          : `select ${selectList(names)} from ${names.table} where ${names.id} > $1 order by ${names.id} limit $2`;
      const { rows } = await pool.query(
        sql,
        after === undefined ? [limit] : [String(after), limit],
      );
      return rows as Row[];
    },
    async readRows(target, ids) {
      const names = q(target);
      const { rows } = await pool.query(
        `select ${selectList(names)} from ${names.table} where ${names.id} = any($1::${idType(names)}[])`,
        [ids.map(String)],
      );
      return rows as Row[];
    },
    async applyUpdates(target, updates, checkpoint) {
      if (updates.length === 0 && checkpoint === undefined) return [];
      const names = q(target);
      const client = await pool.connect();
      try {
        await client.query('begin');
        const appliedIds =
          updates.length === 0
            ? new Set<string>()
            : await update(client, target, names, idType(names), updates);
        const applied = updates.map((u) => appliedIds.has(String(u.id)));
        if (checkpoint !== undefined && applied.every(Boolean)) {
          await client.query(
            upsertCheckpointSql((i) => `$${i}`),
            checkpointParameters(checkpoint),
          );
        }
        await client.query('commit');
        return applied;
      } catch (err) {
        await client.query('rollback').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async ensureCheckpointTable() {
      await pool.query(CREATE_CHECKPOINT_TABLE);
    },
    async loadCheckpoint(runKey) {
      const { rows } = await pool.query(selectCheckpointSql('$1'), [runKey]);
      return rows[0] === undefined ? undefined : checkpointFromRow(rows[0]);
    },
    async saveCheckpoint(checkpoint) {
      await pool.query(
        upsertCheckpointSql((i) => `$${i}`),
        checkpointParameters(checkpoint),
      );
    },
    async close() {
      await options.close?.();
    },
  };
}

/**
 * One statement for the whole batch: the rows' old and new values travel as parallel arrays
 * (`unnest`), each column is set only where that row changes it, and the WHERE compares every
 * changed column (and the tenant) with the value read: a row the application changed meanwhile
 * is not returned, so it is not counted as applied.
 */
async function update(
  client: pg.PoolClient,
  target: TableTarget,
  names: QuotedTarget,
  idType: string,
  updates: readonly RowUpdate[],
): Promise<Set<string>> {
  const params: unknown[] = [];
  const arrays: string[] = [];
  const aliases: string[] = [];
  const add = (values: unknown[], type: string, alias: string) => {
    params.push(values);
    arrays.push(`$${params.length}::${type}[]`);
    aliases.push(alias);
  };
  add(
    updates.map((u) => String(u.id)),
    'text',
    'id',
  );
  const sets: string[] = [];
  const checks: string[] = [];
  target.columns.forEach((column, i) => {
    const name = names.columns[i] as string;
    add(
      updates.map((u) => u.changes.has(column)),
      'bool',
      `s${i}`,
    );
    add(
      updates.map((u) => textOrNull(u.changes.get(column)?.old)),
      'text',
      `o${i}`,
    );
    add(
      updates.map((u) => u.changes.get(column)?.next ?? null),
      'text',
      `n${i}`,
    );
    sets.push(`${name} = case when v.s${i} then v.n${i} else t.${name} end`);
    checks.push(`(not v.s${i} or t.${name} is not distinct from v.o${i})`);
  });
  if (names.tenant !== undefined) {
    add(
      updates.map((u) => textOrNull(u.tenant)),
      'text',
      'tenant',
    );
    checks.push(`t.${names.tenant}::text is not distinct from v.tenant`);
  }
  const sql = `update ${names.table} as t set ${sets.join(', ')}
from unnest(${arrays.join(', ')}) as v(${aliases.join(', ')})
where t.${names.id} = v.id::${idType} and ${checks.join(' and ')}
returning t.${names.id}::text as id`;
  const { rows } = await client.query<{ id: string }>(sql, params);
  return new Set(rows.map((r) => r.id));
}

function textOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}
