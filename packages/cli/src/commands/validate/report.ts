import { type EnvironmentReport, formatProblem } from '@custos/core/secrets';
import { plural } from '../../output.js';

/** Prints a validation report, one line per problem; never a value (the report holds none). */
export function printReport(report: EnvironmentReport, write: (line: string) => void): void {
  const count = report.checkedNames.length;
  write(
    `custos: ${report.environment}, ${count} variable${count === 1 ? '' : 's'} checked against ${report.basis}`,
  );
  for (const problem of report.problems) write(`  ✗ ${formatProblem(problem)}`);
  for (const warning of report.warnings) write(`  ! ${formatProblem(warning)}`);
  for (const notice of report.notices) write(`  note: ${notice}`);
  if (report.basis === 'env files') {
    write(
      '  note: no schema or example file: only the values the env files define were checked; nothing is known to be required',
    );
  }
  const problems = plural(report.problems.length, 'problem');
  const warnings = plural(report.warnings.length, 'warning');
  write(report.problems.length === 0 ? `ok (${warnings})` : `${problems}, ${warnings}`);
}
