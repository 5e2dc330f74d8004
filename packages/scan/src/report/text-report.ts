import type { Finding } from '../engine/finding.js';
import { printable } from './printable.js';

/**
 * Human-readable lines, one per finding (`file:line:column  rule  confidence  redacted`, and the
 * introducing commit in history scans), then a summary line. Secrets appear only redacted;
 * characters a terminal would act on are escaped ({@link printable}).
 *
 * @example
 * ```ts
 * for (const line of formatText(findings)) console.warn(line);
 * ```
 */
export function formatText(findings: readonly Finding[]): string[] {
  const lines = findings.map((f) => {
    const where = `${f.file}:${f.line}:${f.column}`;
    const origin = f.commit
      ? `  ${f.commit.slice(0, 12)} ${f.author ?? ''} ${f.date ?? ''}`.trimEnd()
      : '';
    return printable(`${where}  ${f.rule}  ${f.confidence}  ${f.redacted}${origin}`);
  });
  const count = findings.length;
  lines.push(count === 0 ? 'No secrets found.' : `${count} secret${count === 1 ? '' : 's'} found.`);
  return lines;
}
