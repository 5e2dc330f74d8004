import type { Finding } from '../engine/finding.js';

/** One finding as the JSON report shows it (the fields of `custos scan --format json`). */
export interface JsonFinding {
  readonly rule: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly commit?: string;
  readonly author?: string;
  readonly date?: string;
  readonly fingerprint: string;
  readonly confidence: string;
  readonly redacted: string;
}

/**
 * The JSON report, `{"findings":[…]}`; it is also a baseline file (`--baseline`).
 *
 * @example
 * ```ts
 * process.stdout.write(`${JSON.stringify(toJsonReport(findings), null, 2)}\n`);
 * ```
 */
export function toJsonReport(findings: readonly Finding[]): { findings: JsonFinding[] } {
  return {
    findings: findings.map((f) => ({
      rule: f.rule,
      file: f.file,
      line: f.line,
      column: f.column,
      ...(f.commit !== undefined ? { commit: f.commit } : {}),
      ...(f.author !== undefined ? { author: f.author } : {}),
      ...(f.date !== undefined ? { date: f.date } : {}),
      fingerprint: f.fingerprint,
      confidence: f.confidence,
      redacted: f.redacted,
    })),
  };
}
