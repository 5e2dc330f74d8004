import type { LineIndex } from './positions.js';

const SAME_LINE = /custos-ignore(?!-next-line)|gitleaks:allow/;
const NEXT_LINE = 'custos-ignore-next-line';

/**
 * The line's text without a CRLF's carriage return, split at the lone carriage returns left:
 * lines are counted at `\n` (as git counts them), but a carriage return alone ends a line in
 * an editor, so a marker silences only the stretch of text it shares with a finding.
 */
function stretches(lines: LineIndex, line: number): string[] {
  return lines.lineText(line).replace(/\r$/, '').split('\r');
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
 * Whether a finding at `line` and `column` is silenced by a comment: `custos-ignore` on the
 * same line, `custos-ignore-next-line` at the end of the line before, or gitleaks'
 * `gitleaks:allow` (for migration). A lone carriage return ends a line here: a marker on the
 * first line of a file with old Mac line endings must not silence the whole file.
 *
 * @example
 * ```ts
 * // const legacyKey = 'AKIA…'; // custos-ignore
 * ```
 */
export function isIgnoredInline(lines: LineIndex, line: number, column: number): boolean {
  const parts = stretches(lines, line);
  if (SAME_LINE.test(stretchAt(parts, column - 1))) return true;
  // Only the line's first stretch follows the line before.
  if (line <= 1 || column - 1 > (parts[0] as string).length) return false;
  return (stretches(lines, line - 1).at(-1) as string).includes(NEXT_LINE);
}
