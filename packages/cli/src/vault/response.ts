import { CustosError } from '@custos/core/errors';
import { print } from '../output.js';
import { formatValue, keyValueRows, type OutputFlags, outputFormat, table } from './format.js';

/** The parts of a Vault response envelope the CLI prints. */
export interface VaultResponse {
  lease_id?: string;
  lease_duration?: number;
  renewable?: boolean;
  data?: Record<string, unknown> | null;
  auth?: VaultAuth | null;
  warnings?: string[] | null;
}

/** The `auth` block of a login or `token create` response. */
export interface VaultAuth {
  client_token: string;
  accessor: string;
  policies: string[] | null;
  token_policies: string[] | null;
  identity_policies?: string[] | null;
  metadata: Record<string, string> | null;
  lease_duration: number;
  renewable: boolean;
}

/** Seconds as Vault prints a duration: `1h`, `768h`, `1h30m5s`, `∞` for none. */
export function humanDuration(seconds: number): string {
  if (seconds <= 0) return '∞';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${s}s` : ''}`;
}

const quoted = (list: readonly string[] | null | undefined) =>
  `[${(list ?? []).map((p) => JSON.stringify(p)).join(' ')}]`;

/** The fields of an `auth` block, in the order and names of Vault's table. */
function authFields(auth: VaultAuth): [string, unknown, string][] {
  const fields: [string, unknown, string][] = [
    ['token', auth.client_token, auth.client_token],
    ['token_accessor', auth.accessor, auth.accessor],
    ['token_duration', auth.lease_duration, humanDuration(auth.lease_duration)],
    ['token_renewable', auth.renewable, String(auth.renewable)],
    ['token_policies', auth.token_policies ?? [], quoted(auth.token_policies)],
    ['identity_policies', auth.identity_policies ?? [], quoted(auth.identity_policies)],
    ['policies', auth.policies ?? [], quoted(auth.policies)],
  ];
  for (const [key, value] of Object.entries(auth.metadata ?? {}).sort(([a], [b]) =>
    a < b ? -1 : 1,
  )) {
    fields.push([`token_meta_${key}`, value, value]);
  }
  return fields;
}

/** A value printed by `-field`: strings raw, anything else as JSON (Vault prints `%v`). */
function printField(value: unknown): void {
  print(typeof value === 'string' ? value : formatValue(value));
}

/**
 * Prints a Vault response the way Vault's CLI does: `-format=json` the whole response,
 * `-field=name` that one value of `data` (or of `auth`: `token`, `token_accessor`, …), and by
 * default the `Key Value` table (`auth` first, then the lease, then `data`).
 *
 * @example
 * ```ts
 * printResponse(body, { format: 'table' }, 'secret/data/app');
 * ```
 */
export function printResponse(response: VaultResponse, flags: OutputFlags, path: string): void {
  const format = outputFormat(flags);
  const data = response.data ?? {};
  const auth = response.auth ?? undefined;
  if (flags.field !== undefined) {
    const fromAuth =
      auth === undefined ? undefined : authFields(auth).find(([k]) => k === flags.field);
    if (fromAuth !== undefined) {
      printField(fromAuth[1]);
      return;
    }
    if (Object.hasOwn(data, flags.field)) {
      printField(data[flags.field]);
      return;
    }
    throw new CustosError(
      'ERR_NOT_FOUND',
      `field "${flags.field}" not present in the response of ${path}`,
    );
  }
  if (format === 'json') {
    print(JSON.stringify(response, null, 2));
    return;
  }
  const rows: string[][] = [];
  if (auth !== undefined) rows.push(...authFields(auth).map(([k, , shown]) => [k, shown]));
  if ((response.lease_duration ?? 0) > 0) {
    if (response.lease_id) rows.push(['lease_id', response.lease_id]);
    rows.push(['lease_duration', humanDuration(response.lease_duration ?? 0)]);
    rows.push(['lease_renewable', String(response.renewable ?? false)]);
  }
  rows.push(...keyValueRows(data));
  for (const line of table(['Key', 'Value'], rows)) print(line);
  for (const warning of response.warnings ?? []) print(`\nWARNING! ${warning}`);
}

/** Prints a list of keys: `Keys` table by default, a JSON array with `-format=json`. */
export function printKeys(keys: readonly string[], flags: OutputFlags): void {
  if (outputFormat(flags) === 'json') {
    print(JSON.stringify(keys, null, 2));
    return;
  }
  for (const line of table(
    ['Keys'],
    keys.map((k) => [k]),
  ))
    print(line);
}
