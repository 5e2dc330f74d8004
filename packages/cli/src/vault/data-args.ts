import { readFileSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import { CustosError } from '@custos/core/errors';

/**
 * The request body of `custos write|patch <path> [args…]`, read as Vault's CLI reads it:
 * `key=value` pairs (a key given twice becomes a list), `key=@file` and `key=-` (stdin, once)
 * for a value, or a single `-` (stdin) or `@file.json` for a whole JSON body.
 *
 * @example
 * ```ts
 * await parseDataArgs(['token_policies=app', 'token_ttl=1h']); // { token_policies: 'app', token_ttl: '1h' }
 * ```
 */
export async function parseDataArgs(args: readonly string[]): Promise<Record<string, unknown>> {
  const [only] = args;
  if (args.length === 1 && only !== undefined && (only === '-' || /^@[^=]*$/.test(only))) {
    const source = only === '-' ? 'stdin' : only.slice(1);
    return jsonObject(
      only === '-' ? await text(process.stdin) : readFileSync(source, 'utf8'),
      source,
    );
  }
  const data: Record<string, unknown> = {};
  let stdinUsed = false;
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        'expected key=value (or a single - or @file.json for a JSON body), got an argument without "="',
      );
    }
    const key = arg.slice(0, eq);
    const raw = arg.slice(eq + 1);
    let value = raw;
    if (raw === '-') {
      if (stdinUsed)
        throw new CustosError('ERR_INVALID_ARGUMENT', 'only one value can come from stdin');
      stdinUsed = true;
      value = (await text(process.stdin)).replace(/\n$/, '');
    } else if (raw.startsWith('@')) {
      value = readFileSync(raw.slice(1), 'utf8').replace(/\n$/, '');
    }
    const previous = data[key];
    data[key] =
      previous === undefined
        ? value
        : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return data;
}

function jsonObject(textBody: string, source: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(textBody);
  } catch {
    // The text is not quoted: it may hold secrets.
    throw new CustosError('ERR_INVALID_ARGUMENT', `the JSON body from ${source} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', `the JSON body from ${source} must be an object`);
  }
  return parsed as Record<string, unknown>;
}

/** The API path a user typed, without leading slashes (`/secret/data/a` → `secret/data/a`), as Vault reads it. */
export function apiPath(path: string): string {
  return path.replace(/^\/+/, '');
}
