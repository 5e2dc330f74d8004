import { CustosError } from '@custos/core/errors';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Checks a table or column name given on the command line and returns it double-quoted (valid
 * in SQLite and PostgreSQL). `schema.table` is allowed where `qualified` is set. Anything else
 * is refused, so no name can carry SQL.
 */
export function quoteIdentifier(name: string, what: string, qualified = false): string {
  const parts = qualified ? name.split('.') : [name];
  if (parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `${what} "${name}" must be a plain SQL identifier (letters, digits, _; 63 at most)${qualified ? ', optionally schema.table' : ''}`,
    );
  }
  return parts.map((part) => `"${part}"`).join('.');
}

/** The quoted names of a target, checked once. */
export interface QuotedTarget {
  readonly table: string;
  readonly id: string;
  readonly tenant: string | undefined;
  readonly columns: readonly string[];
}

/** Checks and quotes every identifier of a target; refuses duplicates and overlaps. */
export function quoteTarget(target: {
  readonly table: string;
  readonly idColumn: string;
  readonly columns: readonly string[];
  readonly tenantColumn?: string | undefined;
}): QuotedTarget {
  if (target.columns.length === 0) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'name at least one encrypted column');
  }
  const all = [
    target.idColumn,
    ...target.columns,
    ...(target.tenantColumn ? [target.tenantColumn] : []),
  ];
  if (new Set(all).size !== all.length) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'the id column, tenant column and encrypted columns must all be different',
    );
  }
  return {
    table: quoteIdentifier(target.table, 'table', true),
    id: quoteIdentifier(target.idColumn, 'id column'),
    tenant:
      target.tenantColumn === undefined
        ? undefined
        : quoteIdentifier(target.tenantColumn, 'tenant column'),
    columns: target.columns.map((c) => quoteIdentifier(c, 'column')),
  };
}
