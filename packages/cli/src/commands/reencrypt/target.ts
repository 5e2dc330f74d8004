import { CustosError } from '@custos/core/errors';

/** Flags shared by `custos reencrypt` and `custos encryption status`. */
export interface TargetFlags {
  db: string;
  table: string;
  idColumn: string;
  columns: string;
  tenantColumn?: string;
  contextTable?: string;
  bindRow: boolean;
}

/** `a,b , c` → `['a', 'b', 'c']`. */
export function splitList(value: string | undefined, what: string): string[] {
  const items = (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (value !== undefined && items.length === 0) {
    throw new CustosError('ERR_INVALID_ARGUMENT', `${what} needs at least one name`);
  }
  return items;
}

/** The table target and binding the flags describe. */
export function targetFrom(flags: TargetFlags) {
  return {
    target: {
      table: flags.table,
      idColumn: flags.idColumn,
      columns: splitList(flags.columns, '--columns'),
      ...(flags.tenantColumn === undefined ? {} : { tenantColumn: flags.tenantColumn }),
    },
    binding: {
      bindRowId: flags.bindRow,
      ...(flags.contextTable === undefined ? {} : { contextTable: flags.contextTable }),
    },
  };
}
