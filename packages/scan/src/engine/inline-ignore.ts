import type { LineIndex } from './positions.js';

/**
 * Whether a finding on `line` is silenced by a comment: `custos-ignore` on the same line,
 * `custos-ignore-next-line` on the line before, or gitleaks' `gitleaks:allow` (for migration).
 *
 * @example
 * ```ts
 * // const legacyKey = 'AKIA…'; // custos-ignore
 * ```
 */
export function isIgnoredInline(lines: LineIndex, line: number): boolean {
  const text = lines.lineText(line);
  if (/custos-ignore(?!-next-line)|gitleaks:allow/.test(text)) return true;
  return line > 1 && lines.lineText(line - 1).includes('custos-ignore-next-line');
}
