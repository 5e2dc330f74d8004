import {
  AliasNode,
  AndNode,
  BinaryOperationNode,
  ColumnNode,
  IdentifierNode,
  type OperationNode,
  ParensNode,
  ReferenceNode,
  SelectAllNode,
  type SelectionNode,
  TableNode,
  ValueNode,
  type WhereNode,
} from 'kysely';

/** The table a FROM item, UPDATE target or INSERT target names (through an alias), if plain. */
export function tableNameOf(node: OperationNode | undefined): string | undefined {
  if (node === undefined) return undefined;
  if (AliasNode.is(node)) return tableNameOf(node.node);
  if (TableNode.is(node)) return node.table.identifier.name;
  return undefined;
}

/** The column a column or reference node names, if it is a plain column. */
export function columnNameOf(node: OperationNode | undefined): string | undefined {
  if (node === undefined) return undefined;
  if (ColumnNode.is(node)) return node.column.name;
  if (ReferenceNode.is(node) && ColumnNode.is(node.column)) return node.column.column.name;
  return undefined;
}

/**
 * `column = value` conditions joined by AND at the top of a WHERE: the only shape from which a
 * row id or tenant can be read with certainty.
 */
export function whereEqualities(where: WhereNode | undefined): Map<string, unknown> {
  const found = new Map<string, unknown>();
  const visit = (node: OperationNode): void => {
    if (AndNode.is(node)) {
      visit(node.left);
      visit(node.right);
    } else if (ParensNode.is(node)) {
      visit(node.node);
    } else if (
      BinaryOperationNode.is(node) &&
      (node.operator as { operator?: string }).operator === '='
    ) {
      const left = columnNameOf(node.leftOperand);
      const right = columnNameOf(node.rightOperand);
      if (left !== undefined && ValueNode.is(node.rightOperand)) {
        found.set(left, node.rightOperand.value);
      } else if (right !== undefined && ValueNode.is(node.leftOperand)) {
        found.set(right, node.leftOperand.value);
      }
    }
  };
  if (where !== undefined) visit(where.where);
  return found;
}

/**
 * Which source column each result key holds: `'all'` for `select *`, otherwise a map from the
 * result key (the alias, or the column name) to the column. Expressions map to nothing.
 */
export function resultColumns(
  selections: readonly SelectionNode[] | undefined,
): 'all' | Map<string, string> {
  const map = new Map<string, string>();
  for (const { selection } of selections ?? []) {
    if (SelectAllNode.is(selection)) return 'all';
    if (ReferenceNode.is(selection) && SelectAllNode.is(selection.column)) return 'all';
    if (AliasNode.is(selection)) {
      const column = columnNameOf(selection.node);
      if (column !== undefined && IdentifierNode.is(selection.alias)) {
        map.set(selection.alias.name, column);
      }
      continue;
    }
    const column = columnNameOf(selection);
    if (column !== undefined) map.set(column, column);
  }
  return map;
}
