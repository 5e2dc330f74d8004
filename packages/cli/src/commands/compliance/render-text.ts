import type { ColumnSummary, ComplianceReport } from '@custos/server/compliance';
import { plural } from '../../output.js';

function columnLine(c: ColumnSummary): string {
  return `  column ${c.column}: ${c.state} (${plural(c.plaintext, 'plaintext row')}, ${plural(c.failing, 'failing row')}, ${plural(c.oldVersion, 'row')} under an old key; status taken ${c.takenAt})`;
}

/**
 * The report for a terminal: each control with its status and claims (✓ supports, ✗ against,
 * · neutral) and the command that re-checks each, then the classified data by class and the
 * columns given without a class.
 *
 * @example
 * ```ts
 * process.stdout.write(`${renderText(report)}\n`);
 * ```
 */
export function renderText(report: ComplianceReport): string {
  const lines: string[] = [];
  for (const control of report.controls) {
    const name = control.framework === 'hipaa' ? `HIPAA §${control.id}` : `SOC 2 ${control.id}`;
    lines.push(`${control.status.toUpperCase().padEnd(8)} ${name} ${control.title}`);
    for (const item of control.evidence) {
      const mark = item.supports === false ? '✗' : item.supports === true ? '✓' : '·';
      lines.push(`  ${mark} ${item.claim}`, `      re-check: ${item.recheck}`);
    }
  }
  for (const summary of report.dataClasses ?? []) {
    lines.push(`DATA CLASS ${summary.dataClass}`);
    for (const s of summary.secrets) lines.push(`  secret ${s.path}: rotation ${s.rotation}`);
    for (const k of summary.transitKeys)
      lines.push(
        `  transit key ${k.name}: version ${k.latestVersion}, ${plural(k.ageDays, 'day')} old (limit ${k.limitDays})`,
      );
    for (const c of summary.columns ?? []) lines.push(columnLine(c));
  }
  if (report.unclassifiedColumns !== undefined) {
    lines.push('COLUMNS WITHOUT A DATA CLASS');
    for (const c of report.unclassifiedColumns) lines.push(columnLine(c));
  }
  return lines.join('\n');
}
