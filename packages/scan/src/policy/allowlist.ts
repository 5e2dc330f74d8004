import type ignoreFactory from 'ignore';
import type { Finding } from '../engine/finding.js';
import { requireFromScanPackage } from '../package-files.js';

/**
 * Findings not to report: by path (gitignore-style patterns relative to the scanned root), by
 * rule id, or by secret (the fingerprint of a finding: a value known not to be secret, a
 * revoked test key).
 *
 * @example
 * ```ts
 * const allowlist: Allowlist = { paths: ['docs/examples/**'], rules: ['jwt'], fingerprints: ['3f2a…'] };
 * ```
 */
export interface Allowlist {
  readonly paths?: readonly string[];
  readonly rules?: readonly string[];
  readonly fingerprints?: readonly string[];
}

/** A compiled allowlist. */
export interface AllowlistMatcher {
  allowsPath(path: string): boolean;
  allowsFinding(finding: Pick<Finding, 'rule' | 'fingerprint' | 'file'>): boolean;
}

/**
 * Compiles an allowlist.
 *
 * @example
 * ```ts
 * const matcher = compileAllowlist({ paths: ['fixtures/'] });
 * matcher.allowsPath('fixtures/keys.pem'); // true
 * ```
 */
export function compileAllowlist(allowlist: Allowlist = {}): AllowlistMatcher {
  const hasPaths = (allowlist.paths ?? []).length > 0;
  // `ignore` loads only when there are path patterns: the pre-commit check's start-up counts.
  const paths = hasPaths ? loadIgnore()().add([...(allowlist.paths ?? [])]) : null;
  const rules = new Set(allowlist.rules ?? []);
  const fingerprints = new Set(allowlist.fingerprints ?? []);
  // Patterns are relative to the root: a file outside it (named by its absolute path) matches
  // none (`ignore` refuses such paths outright).
  const allowsPath = (path: string) =>
    paths !== null &&
    path !== '' &&
    !path.startsWith('../') &&
    !path.startsWith('/') &&
    paths.ignores(path);
  return {
    allowsPath,
    allowsFinding: (finding) =>
      rules.has(finding.rule) || fingerprints.has(finding.fingerprint) || allowsPath(finding.file),
  };
}

function loadIgnore(): typeof ignoreFactory {
  return requireFromScanPackage('ignore') as typeof ignoreFactory;
}
