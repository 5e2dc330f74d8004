import { type AllowlistMatcher, compileAllowlist } from '../policy/allowlist.js';
import { atLeast } from '../rules/rule.js';
import type { Finding } from './finding.js';
import type { ScanTextOptions } from './scan-text.js';

// scanPaths passes one allowlist for every file: compile it once.
const compiled = new WeakMap<object, AllowlistMatcher>();
const NO_ALLOWLIST = {};

function allowlistOf(options: Pick<ScanTextOptions, 'allowlist'>): AllowlistMatcher {
  const allowlist = options.allowlist ?? NO_ALLOWLIST;
  let matcher = compiled.get(allowlist);
  if (matcher === undefined) {
    matcher = compileAllowlist(allowlist);
    compiled.set(allowlist, matcher);
  }
  return matcher;
}

/**
 * Whether a finding is reported under the run's choices: at least as sure as `minConfidence`,
 * not allowlisted, not in the baseline. Applied after scanning (and after a scan cache), so
 * these choices never change what is cached.
 *
 * @example
 * ```ts
 * const reported = findings.filter((f) => isReported(f, { minConfidence: 'high' }));
 * ```
 */
export function isReported(
  finding: Finding,
  options: Pick<ScanTextOptions, 'allowlist' | 'baseline' | 'minConfidence'>,
): boolean {
  return (
    atLeast(finding.confidence, options.minConfidence ?? 'low') &&
    !allowlistOf(options).allowsFinding(finding) &&
    options.baseline?.has(finding.fingerprint) !== true
  );
}
