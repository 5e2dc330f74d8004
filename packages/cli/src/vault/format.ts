import { CustosError } from '@custos/core/errors';

/** The output formats of the Vault-style commands (`-format`). */
export type OutputFormat = 'table' | 'json';

/** The output flags every Vault-style command takes. */
export interface OutputFlags {
  format?: string;
  field?: string;
}

/**
 * The checked `-format`: `table` (the default) or `json`; `VAULT_FORMAT` / `CUSTOS_FORMAT` set
 * the default, as `VAULT_FORMAT` does for Vault's CLI.
 */
export function outputFormat(flags: OutputFlags): OutputFormat {
  const format =
    flags.format ??
    [process.env.CUSTOS_FORMAT, process.env.VAULT_FORMAT].find(
      (f) => f !== undefined && f !== '',
    ) ??
    'table';
  if (format !== 'table' && format !== 'json') {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `invalid -format: use table or json (got ${JSON.stringify(format.slice(0, 20))})`,
    );
  }
  return format;
}

/**
 * One value as Vault's table shows it (Go's `%v`): strings as they are, lists as `[a b]`,
 * maps as `map[k:v]` with sorted keys, `null` as `<nil>`.
 */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map(formatValue).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `map[${entries.map(([k, v]) => `${k}:${formatValue(v)}`).join(' ')}]`;
  }
  return String(value);
}

/**
 * Rows as Vault's two-column table: a header, a rule of dashes, and the rows, each column
 * padded to its widest cell plus four spaces.
 *
 * @example
 * ```ts
 * table(['Key', 'Value'], [['a', '1']]); // ['Key    Value', '---    -----', 'a      1']
 * ```
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [header, header.map((h) => '-'.repeat(h.length)), ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  return all.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 4)))
      .join('')
      .trimEnd(),
  );
}

/** A map's entries as `Key Value` rows, keys sorted (as Vault prints `data`). */
export function keyValueRows(data: Record<string, unknown>): string[][] {
  return Object.keys(data)
    .sort()
    .map((key) => [key, formatValue(data[key])]);
}
