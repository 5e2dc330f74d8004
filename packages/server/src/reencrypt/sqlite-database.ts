import { resolve } from 'node:path';
import { CustosError } from '@custos/core/errors';
import Database from 'better-sqlite3';
import {
  CREATE_CHECKPOINT_TABLE,
  checkpointFromRow,
  checkpointParameters,
  selectCheckpointSql,
  upsertCheckpointSql,
} from './checkpoint.js';
import type { ReencryptDatabase } from './database.js';
import { type QuotedTarget, quoteTarget } from './identifiers.js';
import type { Checkpoint, Row, RowUpdate, TableTarget } from './types.js';

/**
 * Opens an existing SQLite file for re-encryption (never creates one: a mistyped path must not
 * report "0 rows, all done").
 *
 * @example
 * ```ts
 * const db = openSqliteReencryptDatabase('app.db');
 * ```
 */
export function openSqliteReencryptDatabase(path: string): ReencryptDatabase {
  let database: Database.Database;
  try {
    database = new Database(path, { fileMustExist: true });
  } catch (err) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `cannot open SQLite database ${path}: ${(err as Error).message}`,
    );
  }
  // Wait for application writers instead of failing with SQLITE_BUSY.
  database.pragma('busy_timeout = 10000');
  return sqliteReencryptDatabase(database, {
    description: `sqlite ${resolve(path)}`,
    close: () => database.close(),
  });
}

/**
 * Re-encryption over an open better-sqlite3 database (the caller keeps ownership unless `close`
 * is given).
 *
 * @example
 * ```ts
 * const db = sqliteReencryptDatabase(new Database('app.db'));
 * ```
 */
export function sqliteReencryptDatabase(
  database: Database.Database,
  options: { description?: string; close?: () => void } = {},
): ReencryptDatabase {
  const quoted = new WeakMap<TableTarget, QuotedTarget>();
  const statements = new Map<string, Database.Statement>();
  const q = (target: TableTarget) => {
    let names = quoted.get(target);
    if (names === undefined) {
      names = quoteTarget(target);
      quoted.set(target, names);
    }
    return names;
  };
  const prepare = (sql: string) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = database.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const selectList = (names: QuotedTarget) =>
    [names.id, ...(names.tenant ? [names.tenant] : []), ...names.columns].join(', ');
  const saveCheckpoint = (checkpoint: Checkpoint) =>
    prepare(upsertCheckpointSql(() => '?')).run(...checkpointParameters(checkpoint));

  const apply = database.transaction(
    (target: TableTarget, updates: readonly RowUpdate[], checkpoint: Checkpoint | undefined) => {
      const names = q(target);
      const applied = updates.map((update) => {
        const columns = [...update.changes.keys()];
        const quotedColumns = columns.map((c) => names.columns[target.columns.indexOf(c)]);
        const sql = `update ${names.table} set ${quotedColumns.map((c) => `${c} = ?`).join(', ')} where ${names.id} = ? and ${quotedColumns.map((c) => `${c} is ?`).join(' and ')}${names.tenant ? ` and ${names.tenant} is ?` : ''}`;
        const changes = columns.map((c) => update.changes.get(c));
        const result = prepare(sql).run(
          ...changes.map((change) => change?.next),
          update.id,
          ...changes.map((change) => bindable(change?.old)),
          ...(names.tenant ? [bindable(update.tenant)] : []),
        );
        return result.changes === 1;
      });
      if (checkpoint !== undefined && applied.every(Boolean)) saveCheckpoint(checkpoint);
      return applied;
    },
  );

  return {
    kind: 'sqlite',
    description: options.description ?? 'sqlite',
    async inspect(target) {
      const names = q(target);
      const [schema, table] = target.table.includes('.')
        ? target.table.split('.')
        : [undefined, target.table];
      const info = database
        .prepare(`pragma ${schema ? `"${schema}".` : ''}table_info("${table}")`)
        .all() as { name: string }[];
      if (info.length === 0) {
        throw new CustosError('ERR_INVALID_ARGUMENT', `table ${names.table} does not exist`);
      }
      const existing = new Set(info.map((c) => c.name));
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
      const row = prepare(`select count(*) as n from ${q(target).table}`).get() as { n: number };
      return row.n;
    },
    async readBatch(target, after, limit) {
      const names = q(target);
      const where = after === undefined ? '' : ` where ${names.id} > ?`;
      const sql = `select ${selectList(names)} from ${names.table}${where} order by ${names.id} limit ?`;
      const params = after === undefined ? [limit] : [after, limit];
      return prepare(sql).all(...params) as Row[];
    },
    async readRows(target, ids) {
      const names = q(target);
      const sql = `select ${selectList(names)} from ${names.table} where ${names.id} = ?`;
      const statement = prepare(sql);
      return ids.flatMap((id) => {
        const row = statement.get(id) as Row | undefined;
        return row === undefined ? [] : [row];
      });
    },
    async applyUpdates(target, updates, checkpoint) {
      // IMMEDIATE takes the write lock first, so a concurrent writer cannot deadlock the upgrade.
      return apply.immediate(target, updates, checkpoint);
    },
    async ensureCheckpointTable() {
      database.exec(CREATE_CHECKPOINT_TABLE);
    },
    async loadCheckpoint(runKey) {
      const row = prepare(selectCheckpointSql('?')).get(runKey) as Record<string, unknown>;
      return row === undefined ? undefined : checkpointFromRow(row);
    },
    async saveCheckpoint(checkpoint) {
      saveCheckpoint(checkpoint);
    },
    async close() {
      options.close?.();
    },
  };
}

function bindable(value: unknown): unknown {
  return value === undefined ? null : value;
}
