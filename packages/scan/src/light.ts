/**
 * `@custos/scan/light`: what scanning text and the staged changes needs, without directory
 * walking, worker threads, the scan cache or SARIF, so the pre-commit check (`custos scan
 * --staged`) starts quickly. Everything here is also exported by `@custos/scan`.
 *
 * @example
 * ```ts
 * import { formatText, scanStaged } from '@custos/scan/light';
 * const findings = await scanStaged({ repository: '.' });
 * for (const line of formatText(findings)) console.warn(line);
 * ```
 * @module
 */
export type { Finding } from './engine/finding.js';
export { type ScanTextOptions, scanBytes, scanText } from './engine/scan-text.js';
export { type ScanStagedOptions, scanStaged } from './git/scan-staged.js';
export type { Allowlist } from './policy/allowlist.js';
export { type Baseline, parseBaseline, readBaseline } from './policy/baseline.js';
export {
  type GitleaksIgnoreEntry,
  isGitleaksIgnored,
  parseGitleaksIgnore,
} from './policy/gitleaks-ignore.js';
export { type JsonFinding, toJsonReport } from './report/json-report.js';
export { printable } from './report/printable.js';
export { formatText } from './report/text-report.js';
export type { Confidence } from './rules/rule.js';
