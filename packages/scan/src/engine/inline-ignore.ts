import type { LineIndex } from './positions.js';

/**
 * A marker counts only in a comment: after a comment opener of one of the common syntaxes
 * (`#`, `//`, `/*`, `<!--`, `--`, `;`, `%`, `'`, `::`, `REM`) earlier in the same stretch, at
 * its start or after a space or the end of an expression, so a URL's `//` or `#` opens none.
 */
const COMMENT_OPENER = String.raw`(?:^|(?<=[\s;,)\]}>"'\x60]))(?:#|//|/\*|<!--|--|;|%|'|::|[Rr][Ee][Mm]\b)`;
const SAME_LINE = new RegExp(`${COMMENT_OPENER}.*?(?:custos-ignore(?!-next-line)|gitleaks:allow)`);
const NEXT_LINE = new RegExp(`${COMMENT_OPENER}.*?custos-ignore-next-line`);

/** A position as `LineIndex.position` gives it: 1-based line and column. */
interface Position {
  readonly line: number;
  readonly column: number;
}

/**
 * The line's text without a CRLF's carriage return, split at the lone carriage returns left:
 * lines are counted at `\n` (as git counts them), but a carriage return alone ends a line in
 * an editor, so a marker silences only the stretch of text it shares with a finding.
 */
function stretches(text: string): string[] {
  return text.replace(/\r$/, '').split('\r');
}

/** The stretch of `parts` (split at carriage returns) that holds 0-based `offset`. */
function stretchAt(parts: readonly string[], offset: number): string {
  let start = 0;
  for (const part of parts) {
    if (offset <= start + part.length) return part;
    start += part.length + 1;
  }
  return parts.at(-1) ?? '';
}

/**
 * Whether a finding from `start` to `end` is silenced by a comment: `custos-ignore` in a
 * comment on the finding's line, `custos-ignore-next-line` in a comment on the line before, or
 * gitleaks' `gitleaks:allow` (for migration). The finding's own text never counts: a secret
 * that holds a marker (or a comment opener) does not silence itself. A lone carriage return
 * ends a line here: a marker on the first line of a file with old Mac line endings must not
 * silence the whole file.
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
  // The finding's text blanked out (same length: offsets keep their stretch).
  const around = text.slice(0, from) + ' '.repeat(Math.max(0, to - from)) + text.slice(to);
  const parts = stretches(around);
  if (SAME_LINE.test(stretchAt(parts, from))) return true;
  // Only the line's first stretch follows the line before.
  if (start.line <= 1 || from > (parts[0] as string).length) return false;
  return NEXT_LINE.test(stretches(lines.lineText(start.line - 1)).at(-1) as string);
}
