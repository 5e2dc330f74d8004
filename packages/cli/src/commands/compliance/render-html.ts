import type {
  ColumnSummary,
  ComplianceReport,
  ControlStatus,
  DataClassSummary,
} from '@custos/server/compliance';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);

const LABEL: Record<ControlStatus, string> = {
  pass: 'Pass',
  fail: 'Fail',
  partial: 'Partial',
  'not-applicable': 'Not applicable',
};

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; color: #1b1f24; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
.meta { color: #57606a; margin-top: 0; }
section { border: 1px solid #d0d7de; border-radius: 6px; padding: .75rem 1rem; margin: 1rem 0; break-inside: avoid; }
h2 { font-size: 1.1rem; margin: 0 0 .5rem; display: flex; gap: .75rem; align-items: baseline; }
.status { font-size: .8rem; font-weight: 600; padding: .1rem .5rem; border-radius: 1rem; border: 1px solid; }
.pass { color: #116329; background: #dafbe1; }
.fail { color: #a40e26; background: #ffebe9; }
.partial { color: #7d4e00; background: #fff8c5; }
.not-applicable { color: #57606a; background: #f6f8fa; }
ul { margin: .25rem 0 .5rem; padding-left: 1.25rem; }
li.against { color: #a40e26; }
code { font: 12px ui-monospace, monospace; background: #f6f8fa; padding: .05rem .3rem; border-radius: 3px; }
.recheck { color: #57606a; font-size: .85rem; }
table { border-collapse: collapse; margin: .25rem 0 .75rem; }
th, td { text-align: left; padding: .15rem .75rem .15rem 0; border-bottom: 1px solid #eaeef2; }
th { font-weight: 600; color: #57606a; }
td.n { text-align: right; }
`;

/** A table with a header row; every cell is escaped, `n` marks numeric columns. */
function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]) {
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map(
      (row) =>
        `<tr>${row.map((cell) => (typeof cell === 'number' ? `<td class="n">${cell}</td>` : `<td>${escapeHtml(cell)}</td>`)).join('')}</tr>`,
    )
    .join('\n');
  return `<table>\n<tr>${head}</tr>\n${body}\n</table>`;
}

function columnsTable(columns: readonly ColumnSummary[]): string {
  return table(
    ['Column', 'State', 'Plaintext rows', 'Failing rows', 'Rows under an old key', 'Status taken'],
    columns.map((c) => [c.column, c.state, c.plaintext, c.failing, c.oldVersion, c.takenAt]),
  );
}

/** The classified secrets, transit keys and columns of one data class. */
function dataClassSection(summary: DataClassSummary): string {
  const parts: string[] = [];
  if (summary.secrets.length > 0)
    parts.push(
      table(
        ['Secret', 'Rotation'],
        summary.secrets.map((s) => [s.path, s.rotation]),
      ),
    );
  if (summary.transitKeys.length > 0)
    parts.push(
      table(
        ['Transit key', 'Latest version', 'Age (days)', 'Rotation limit (days)'],
        summary.transitKeys.map((k) => [k.name, k.latestVersion, k.ageDays, k.limitDays]),
      ),
    );
  if (summary.columns !== undefined) parts.push(columnsTable(summary.columns));
  return `<section>
<h2><span>Data class ${escapeHtml(summary.dataClass)}</span></h2>
${parts.join('\n')}
</section>`;
}

/**
 * The report as one self-contained HTML page (no script, no external resource): a section per
 * control with its status, each claim with the command that re-checks it, then the classified
 * secrets, transit keys and columns by data class and the columns given without a class.
 *
 * @example
 * ```ts
 * await writeFile('report.html', renderHtml(report));
 * ```
 */
export function renderHtml(report: ComplianceReport): string {
  const counts = (['pass', 'partial', 'fail', 'not-applicable'] as const)
    .map(
      (status) =>
        `${report.controls.filter((c) => c.status === status).length} ${LABEL[status].toLowerCase()}`,
    )
    .join(', ');
  const sections = report.controls.map((control) => {
    const items = control.evidence
      .map(
        (item) =>
          `<li${item.supports === false ? ' class="against"' : ''}>${escapeHtml(item.claim)} <span class="recheck">— re-check: <code>${escapeHtml(item.recheck)}</code></span></li>`,
      )
      .join('\n');
    return `<section>
<h2><span>${escapeHtml(control.framework === 'hipaa' ? `HIPAA §${control.id}` : `SOC 2 ${control.id}`)} ${escapeHtml(control.title)}</span><span class="status ${control.status}">${LABEL[control.status]}</span></h2>
<ul>
${items}
</ul>
<p class="recheck">Re-check this control: <code>${escapeHtml(control.recheck)}</code></p>
</section>`;
  });
  const dataSections = (report.dataClasses ?? []).map(dataClassSection);
  if (report.unclassifiedColumns !== undefined)
    dataSections.push(`<section>
<h2><span>Columns without a data class</span></h2>
${columnsTable(report.unclassifiedColumns)}
</section>`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>custos compliance report</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Compliance report (${escapeHtml(report.framework === 'all' ? 'HIPAA and SOC 2' : report.framework === 'hipaa' ? 'HIPAA' : 'SOC 2')})</h1>
<p class="meta">Server ${escapeHtml(report.server)} · generated ${escapeHtml(report.generatedAt)} · ${escapeHtml(counts)}</p>
<p class="meta">Every claim was read from the live system and names the command that re-checks it.</p>
${sections.join('\n')}
${dataSections.join('\n')}
</body>
</html>
`;
}
