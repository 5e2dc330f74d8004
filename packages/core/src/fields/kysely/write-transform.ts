import {
  ColumnNode,
  ColumnUpdateNode,
  InsertQueryNode,
  OnConflictNode,
  type OperationNode,
  PrimitiveValueListNode,
  type UpdateQueryNode,
  ValueListNode,
  ValueNode,
  ValuesNode,
} from 'kysely';
import { CustosError, isCustosError } from '../../errors/index.js';
import type { RowCodec } from '../rows.js';
import { columnNameOf, whereEqualities } from './nodes.js';

/**
 * Encrypts the encrypted columns of every row of an INSERT … VALUES, adding blind-index columns
 * that the insert does not set itself. Row ids and tenants come from the same row.
 */
export function encryptInsert(node: InsertQueryNode, codec: RowCodec): InsertQueryNode {
  const names = (node.columns ?? []).map((c) => c.column.name);
  const encrypted = names.filter((name) => isEncrypted(codec, name));
  if (encrypted.length === 0) return node;
  if (node.values === undefined || !ValuesNode.is(node.values)) {
    throw refuse(codec, encrypted[0] as string, 'INSERT … SELECT cannot be encrypted on the way');
  }
  const extra = indexColumns(codec, encrypted).filter((column) => !names.includes(column));
  const rows: Record<string, unknown>[] = [];
  const lists = node.values.values.map((item) => {
    const nodes: OperationNode[] = PrimitiveValueListNode.is(item)
      ? item.values.map((value) => ValueNode.create(value))
      : [...item.values];
    const plain: Record<string, unknown> = {};
    nodes.forEach((value, i) => {
      if (ValueNode.is(value)) plain[names[i] as string] = value.value;
      else if (encrypted.includes(names[i] as string)) {
        throw refuse(codec, names[i] as string, 'an SQL expression cannot be encrypted');
      }
    });
    const row = withHint(() => codec.encryptRow(plain), 'insert it with the row');
    rows.push(plain);
    return ValueListNode.create([
      ...nodes.map((value, i) =>
        encrypted.includes(names[i] as string) ? ValueNode.create(row[names[i] as string]) : value,
      ),
      ...extra.map((column) => ValueNode.create(row[column] ?? null)),
    ]);
  });
  const onConflict =
    node.onConflict?.updates === undefined
      ? node.onConflict
      : OnConflictNode.cloneWith(node.onConflict, {
          updates: encryptAssignments(node.onConflict.updates, rows, codec),
        });
  return InsertQueryNode.cloneWith(node, {
    columns: [...(node.columns ?? []), ...extra.map((column) => ColumnNode.create(column))],
    values: ValuesNode.create(lists),
    ...(onConflict === undefined ? {} : { onConflict }),
  });
}

/**
 * Encrypts the encrypted columns an UPDATE sets. The row id and tenant must be pinned by
 * `column = value` conditions in the WHERE (or set by the update itself).
 */
export function encryptUpdate(node: UpdateQueryNode, codec: RowCodec): UpdateQueryNode {
  if (node.updates === undefined) return node;
  const context = Object.fromEntries(whereEqualities(node.where));
  const updates = encryptAssignments(node.updates, [context], codec);
  // (`UpdateQueryNode.cloneWithUpdates` appends; the assignments are replaced here.)
  return updates === node.updates ? node : Object.freeze({ ...node, updates });
}

function encryptAssignments(
  updates: readonly ColumnUpdateNode[],
  rows: readonly Record<string, unknown>[],
  codec: RowCodec,
): readonly ColumnUpdateNode[] {
  const plain: Record<string, unknown> = {};
  const binding = new Set([codec.table.idColumn, codec.table.tenantColumn]);
  for (const update of updates) {
    const column = columnNameOf(update.column);
    if (column === undefined) continue;
    if (ValueNode.is(update.value) && (isEncrypted(codec, column) || binding.has(column))) {
      plain[column] = update.value.value;
    } else if (isEncrypted(codec, column) && !isReference(update.value)) {
      throw refuse(codec, column, 'an SQL expression cannot be encrypted');
    }
  }
  const touched = Object.keys(plain).filter((column) => isEncrypted(codec, column));
  if (touched.length === 0) return updates;
  if (rows.length !== 1) {
    throw refuse(
      codec,
      touched[0] as string,
      'a multi-row upsert cannot bind its updates to a row',
    );
  }
  const row = withHint(
    () => codec.encryptRow({ ...rows[0], ...plain }),
    `pin the row with where('${codec.table.idColumn ?? codec.table.tenantColumn}', '=', …)`,
  );
  const setColumns = new Set(updates.map((u) => columnNameOf(u.column)));
  return [
    ...updates.map((update) => {
      const column = columnNameOf(update.column) as string;
      return touched.includes(column)
        ? ColumnUpdateNode.create(update.column, ValueNode.create(row[column]))
        : update;
    }),
    ...indexColumns(codec, touched)
      .filter((column) => !setColumns.has(column))
      .map((column) =>
        ColumnUpdateNode.create(ColumnNode.create(column), ValueNode.create(row[column] ?? null)),
      ),
  ];
}

function isEncrypted(codec: RowCodec, column: string): boolean {
  return Object.hasOwn(codec.table.columns, column);
}

function isReference(node: OperationNode): boolean {
  // `excluded.ssn` in an upsert copies the already-encrypted inserted value.
  return columnNameOf(node) !== undefined;
}

function indexColumns(codec: RowCodec, columns: readonly string[]): string[] {
  return columns.flatMap((column) => {
    const config = codec.table.columns[column];
    return config === true || config?.blindIndex === undefined
      ? []
      : [config.blindIndex.indexColumn];
  });
}

function refuse(codec: RowCodec, column: string, why: string): CustosError {
  return new CustosError(
    'ERR_FIELD_CONTEXT_MISSING',
    `${codec.table.table}.${column} is encrypted: ${why}; encrypt the values with createRowCodec().encryptRow() and write them through db.withoutPlugins()`,
  );
}

function withHint<T>(run: () => T, hint: string): T {
  try {
    return run();
  } catch (err) {
    if (isCustosError(err, 'ERR_FIELD_CONTEXT_MISSING')) {
      throw new CustosError('ERR_FIELD_CONTEXT_MISSING', `${err.message} (${hint})`);
    }
    throw err;
  }
}
