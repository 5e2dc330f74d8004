import type { CheckResult } from '@custos/core/tls';
import { print } from '../../output.js';

const MARK = { pass: 'ok  ', warn: 'WARN', fail: 'FAIL', info: 'info' } as const;

/** Prints a check report for a human: a title, one line per check, and the verdict. */
export function printChecks(
  title: string,
  report: { ok: boolean; checks: readonly CheckResult[] },
): void {
  print(title);
  for (const { check, status, detail } of report.checks)
    print(`  ${MARK[status]} ${check.padEnd(14)} ${detail}`);
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  print(report.ok ? 'all checks passed' : `${failed} check(s) failed`);
}
