import type { LineIndex } from './positions.js';

/**
 * Comment openers of the common syntaxes, longest first where one begins another. `--` and
 * `REM` open a comment only before a space or a tab (`--depth`, `REMOVE` open none).
 */
const OPENERS = ['<!--', '//', '/*', '#', ';', '::'] as const;

/** The marker, as the first word of the comment, and what may follow it (see `isMarkerComment`). */
const SAME_LINE = /^(?:custos-ignore|gitleaks:allow)(?![\p{L}\p{N}\p{M}_-])(.*)$/su;
const NEXT_LINE = /^custos-ignore-next-line(?![\p{L}\p{N}\p{M}_-])(.*)$/su;

/** What ends a line for a marker: a lone carriage return, U+2028 and U+2029 as well as `\n`. */
const LINE_BREAK = /\r|\u2028|\u2029/;

/** A position as `LineIndex.position` gives it: 1-based line and column. */
interface Position {
  readonly line: number;
  readonly column: number;
}

/** The length of the comment opener at `i` of `text`, or 0 when none begins there. */
function openerAt(text: string, i: number): number {
  for (const opener of OPENERS) if (text.startsWith(opener, i)) return opener.length;
  const next = text[i + 2] ?? ' ';
  if (text.startsWith('--', i) && (next === ' ' || next === '\t')) return 2;
  const after = text[i + 3];
  if (/^rem$/i.test(text.slice(i, i + 3)) && (after === ' ' || after === '\t')) return 3;
  return 0;
}

/**
 * The text of the line's comment: what follows the first comment opener that begins the
 * stretch or follows a space or a tab and stands outside string literals, or undefined when
 * there is none. Strings are read twice, with backslash escapes (JSON, JavaScript, Python) and
 * without (SQL, YAML's single quotes, CSV, shells): an opener counts only where both readings
 * put it outside every string. One pass over the stretch.
 */
function commentOf(text: string): string | undefined {
  let escaped: string | undefined; // the open quote, reading backslash escapes
  let skip = false;
  let plain: string | undefined; // the open quote, reading none
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (escaped === undefined && plain === undefined) {
      const before = i === 0 ? ' ' : text[i - 1];
      const opener = before === ' ' || before === '\t' ? openerAt(text, i) : 0;
      if (opener > 0) return text.slice(i + opener).replace(/^[ \t]+/, '');
    }
    const quote = c === '"' || c === "'" || c === '`';
    if (skip) skip = false;
    else if (escaped === undefined) {
      if (quote) escaped = c;
    } else if (c === '\\') skip = true;
    else if (c === escaped) escaped = undefined;
    if (plain === undefined) {
      if (quote) plain = c;
    } else if (c === plain) plain = undefined;
  }
  return undefined;
}

/**
 * Whether `comment` begins with the marker `pattern` names and holds only comment text after
 * it: words (a reason), a closing `*\/` or `-->`, but no quote, `<`, `>` or `|` that would make
 * it a value or markup (a marker in `"# custos-ignore"`, `<b># custos-ignore</b>` or a table
 * cell is data).
 */
function isMarkerComment(comment: string | undefined, pattern: RegExp): boolean {
  const rest = comment === undefined ? null : pattern.exec(comment);
  if (rest === null) return false;
  const tail = (rest[1] as string).replace(/[ \t]*(?:\*\/|-->)[ \t]*$/, '');
  return !/["'`<>|]/.test(tail);
}

/**
 * The stretches of a line (split where a line ends for a marker: `LINE_BREAK`), a CRLF's
 * carriage return left out: lines are counted at `\n` (as git counts them), but an editor ends
 * a line at a lone carriage return too, and JavaScript at U+2028 and U+2029, so a marker
 * silences only the stretch of text it shares with a finding.
 */
function stretches(text: string): string[] {
  return text.replace(/\r$/, '').split(LINE_BREAK);
}

/** The stretch of `parts` that holds 0-based `offset`. */
function stretchAt(parts: readonly string[], offset: number): string {
  let start = 0;
  for (const part of parts) {
    if (offset <= start + part.length) return part;
    start += part.length + 1;
  }
  return parts.at(-1) ?? '';
}

/**
 * Whether a finding from `start` to `end` is silenced by a comment that begins with a marker:
 * `custos-ignore` on the finding's line, `custos-ignore-next-line` on the line before, or
 * gitleaks' `gitleaks:allow` (for migration). Markers are read lexically, not by each format's
 * grammar, and every doubt falls to reporting: the line's first comment (its opener after a
 * space or at the start, outside string literals however backslashes are read) must begin with
 * the marker and hold no quote or markup after it; the finding's own text never counts. A lone
 * carriage return ends a line here: a marker on the first line of a file with old Mac line
 * endings must not silence the whole file.
 *
 * @example
 * ```ts
 * // const legacyKey = 'AKIA…'; // custos-ignore
 * ```
 */
export function isIgnoredInline(lines: LineIndex, start: Position, end: Position): boolean {
  const text = lines.lineText(start.line);
  const from = start.column - 1;
  const to = end.line === start.line ? end.column - 1 : text.length;
  // The finding's text replaced by a letter (same length: offsets keep their stretch): no
  // quote, opener or marker of its own counts, and an opener right after it follows no space.
  const around = text.slice(0, from) + 'x'.repeat(Math.max(0, to - from)) + text.slice(to);
  const parts = stretches(around);
  if (isMarkerComment(commentOf(stretchAt(parts, from)), SAME_LINE)) return true;
  // Only the line's first stretch follows the line before.
  if (start.line <= 1 || from > (parts[0] as string).length) return false;
  const before = stretches(lines.lineText(start.line - 1)).at(-1) as string;
  return isMarkerComment(commentOf(before), NEXT_LINE);
}
