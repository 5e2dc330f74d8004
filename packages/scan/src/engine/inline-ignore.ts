import type { LineIndex } from './positions.js';

/**
 * A comment that begins with a marker: a comment opener of one of the common syntaxes (`#`,
 * `//`, `/*`, `<!--`, `-- `, `;`, `::`, `REM `) at the start of the stretch or after a space or
 * an expression's end (so a URL's `//` or `#` opens none), then the marker as a whole word.
 * Whether the opener stands outside a string literal is checked apart (`outsideStrings`).
 */
const commentWith = (marker: string) =>
  new RegExp(
    String.raw`(?:^|(?<=[\s;,)\]}>"'\x60]))(?:#|//|/\*|<!--|--(?=\s)|;|::|[Rr][Ee][Mm](?=\s))\s*(?:${marker})(?![\w-])`,
    'g',
  );
const SAME_LINE = commentWith('custos-ignore|gitleaks:allow');
const NEXT_LINE = commentWith('custos-ignore-next-line');

/** What ends a line for a marker: a lone carriage return, U+2028 and U+2029 as well as `\n`. */
const LINE_BREAK = /\r|\u2028|\u2029/;

/** A position as `LineIndex.position` gives it: 1-based line and column. */
interface Position {
  readonly line: number;
  readonly column: number;
}

/**
 * Whether `end` in `text` lies outside every string literal (`"…"`, `'…'`, `` `…` ``, with
 * backslash escapes) that starts in `text`: a marker in a string is data, not a comment.
 */
function outsideStrings(text: string, end: number): boolean {
  let quote: string | undefined;
  for (let i = 0; i < end; i++) {
    const c = text[i];
    if (quote === undefined) {
      if (c === '"' || c === "'" || c === '`') quote = c;
    } else if (c === '\\') i++;
    else if (c === quote) quote = undefined;
  }
  return quote === undefined;
}

/** Whether `stretch` holds a comment `pattern` finds, outside string literals. */
function hasComment(stretch: string, pattern: RegExp): boolean {
  for (const match of stretch.matchAll(pattern))
    if (outsideStrings(stretch, match.index)) return true;
  return false;
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
 * gitleaks' `gitleaks:allow` (for migration). A marker in a string literal, or inside the
 * finding (a secret never silences itself), does not count; nor does one after a comment has
 * other words first. A lone carriage return ends a line here: a marker on the first line of a
 * file with old Mac line endings must not silence the whole file.
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
  if (hasComment(stretchAt(parts, from), SAME_LINE)) return true;
  // Only the line's first stretch follows the line before.
  if (start.line <= 1 || from > (parts[0] as string).length) return false;
  return hasComment(stretches(lines.lineText(start.line - 1)).at(-1) as string, NEXT_LINE);
}
