import { readFileSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import { CustosError } from '@custos/core/errors';

/** Parses `key=value` arguments; `key=@file` reads a file, `key=-` reads stdin (once). */
export async function parsePairs(pairs: readonly string[]): Promise<Record<string, string>> {
  const data: Record<string, string> = {};
  let stdinUsed = false;
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `expected key=value, got an argument without "=" (${pair.slice(0, eq < 0 ? 20 : eq)}…)`,
      );
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (value === '-') {
      if (stdinUsed)
        throw new CustosError('ERR_INVALID_ARGUMENT', 'only one value can come from stdin');
      stdinUsed = true;
      data[key] = (await text(process.stdin)).replace(/\n$/, '');
    } else if (value.startsWith('@')) {
      data[key] = readFileSync(value.slice(1), 'utf8').replace(/\n$/, '');
    } else {
      data[key] = value;
    }
  }
  return data;
}

/** The API path of a key under a KV v2 mount, e.g. `secret/data/app/db`. */
export function kvPath(mount: string, section: string, path: string): string {
  const key = path.replace(/^\/+/, '');
  const trimmedMount = mount.replace(/\/+$/, '');
  // `secret/app/db` given with the default mount: accept the mount prefix, as `vault kv` does.
  const relative = key.startsWith(`${trimmedMount}/`) ? key.slice(trimmedMount.length + 1) : key;
  return `${trimmedMount}/${section}/${relative.split('/').map(encodeURIComponent).join('/')}`;
}
