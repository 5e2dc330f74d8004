import { parse } from 'dotenv';
import { CustosError } from '../errors/index.js';

/**
 * The line grammar of dotenv 17's parser, with match indices, so a file can be rewritten value
 * by value while its comments, order and layout stay as they were. Each value's meaning still
 * comes from dotenv's own `parse` of the matched text.
 */
const LINE =
  /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/dgm;

/**
 * Rewrites the values of a dotenv text. `transform(name, value)` returns the new value, or
 * `undefined` to keep the line as it is. Comments, blank lines, `export` prefixes, order and
 * trailing comments are kept; the new value is quoted as dotenv needs.
 * @internal
 */
export function rewriteDotenvValues(
  text: string,
  transform: (name: string, value: string) => string | undefined,
): string {
  const normalized = text.replace(/\r\n?/g, '\n');
  let out = '';
  let cursor = 0;
  for (const match of normalized.matchAll(LINE)) {
    const name = match[1] as string;
    const span = match.indices?.[2];
    if (span === undefined) continue;
    const value = parse(match[0])[name];
    if (value === undefined || value === '') continue;
    const replacement = transform(name, value);
    if (replacement === undefined) continue;
    const raw = normalized.slice(span[0], span[1]);
    const leading = /^\s*/.exec(raw)?.[0] ?? '';
    const trailing = /\s*$/.exec(raw)?.[0] ?? '';
    out += normalized.slice(cursor, span[0]) + leading + formatDotenvValue(name, replacement);
    out += trailing;
    cursor = span[1];
  }
  return out + normalized.slice(cursor);
}

const BARE = /^[A-Za-z0-9_./:@+=,%~^-]*$/;

/**
 * Writes a value so dotenv parses it back exactly: bare when it is plain, else in the first
 * quote style (single, double, backtick) that holds it. Throws `ERR_INVALID_ARGUMENT` for the
 * rare value no dotenv quoting can carry.
 * @internal
 */
export function formatDotenvValue(name: string, value: string): string {
  const candidates = [
    BARE.test(value) ? value : undefined,
    `'${value}'`,
    `"${value.replace(/\n/g, '\\n')}"`,
    `\`${value}\``,
  ];
  for (const candidate of candidates) {
    if (candidate !== undefined && parse(`${name}=${candidate}`)[name] === value) return candidate;
  }
  throw new CustosError(
    'ERR_INVALID_ARGUMENT',
    `${name}: this value mixes quote characters in a way no dotenv quoting can hold`,
  );
}

/**
 * Sets `name` to `value` in a dotenv text: rewrites the existing line(s), or appends one.
 * @internal
 */
export function setDotenvValue(text: string, name: string, value: string): string {
  let found = false;
  const rewritten = rewriteDotenvValues(text, (key) => {
    if (key !== name) return undefined;
    found = true;
    return value;
  });
  if (found) return rewritten;
  const separator = rewritten === '' || rewritten.endsWith('\n') ? '' : '\n';
  return `${rewritten}${separator}${name}=${formatDotenvValue(name, value)}\n`;
}
