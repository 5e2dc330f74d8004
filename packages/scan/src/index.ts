/**
 * `@custos/scan`: the secret scanner. Rules written from each provider's documentation of its
 * token formats, checksums validated where a format has one, placeholders, references,
 * ciphertexts and hashes left alone; files, directories and git history. See
 * `docs/scanning.md`.
 *
 * @example
 * ```ts
 * import { scanPaths, scanText } from '@custos/scan';
 * const inText = scanText('DB_URL=postgres://app:…@db.internal/app', { name: '.env' });
 * const inTree = await scanPaths(['.'], { root: process.cwd() });
 * ```
 * @module
 */

import { requireFromScanPackage } from './package-files.js';

export type { Finding } from './engine/finding.js';
export { isReported } from './engine/finding-filter.js';
export { DEFAULT_FINGERPRINT_KEY, fingerprintSecret } from './engine/fingerprint.js';
export type { KeywordMatch } from './engine/keyword-search.js';
export { redactSecret } from './engine/redact.js';
export { type ScanTextOptions, scanBytes, scanText } from './engine/scan-text.js';
export { defaultCacheKeyFile } from './files/cache-key.js';
export type { SkipReason } from './files/classify.js';
export { type ListedFile, type ListFilesOptions, listFiles } from './files/list-files.js';
export {
  cacheKey,
  openScanCache,
  type ScanCache,
  type ScanCacheOptions,
} from './files/scan-cache.js';
export type { FileLimits } from './files/scan-file.js';
export {
  type ScanPathsOptions,
  type ScanProgress,
  type ScanReport,
  type SkippedFile,
  scanPaths,
} from './files/scan-paths.js';
export { characterClasses, shannonEntropy } from './filters/entropy.js';
export { isFixturePath } from './filters/fixture-paths.js';
export { isPlaceholder, isReference } from './filters/placeholders.js';
export { isProtectedValue } from './filters/protected-values.js';
export { installPreCommitHook, PRE_COMMIT_HOOK } from './git/install-hook.js';
export {
  type GitHistoryReport,
  type ScanGitHistoryOptions,
  scanGitHistory,
} from './git/scan-history.js';
export { type ScanStagedOptions, scanStaged } from './git/scan-staged.js';
export { type Allowlist, type AllowlistMatcher, compileAllowlist } from './policy/allowlist.js';
export { type Baseline, parseBaseline, readBaseline } from './policy/baseline.js';
export {
  type GitleaksIgnoreEntry,
  isGitleaksIgnored,
  parseGitleaksIgnore,
} from './policy/gitleaks-ignore.js';
export { type JsonFinding, toJsonReport } from './report/json-report.js';
export { printable } from './report/printable.js';
export { toSarif } from './report/sarif-report.js';
export { formatText } from './report/text-report.js';
export { defaultRules } from './rules/catalog.js';
export { crc32Base62 } from './rules/checksums.js';
export {
  type Candidate,
  CONFIDENCE_LEVELS,
  type Confidence,
  type PatternRuleSpec,
  patternRule,
  type Rule,
  type RuleContext,
  type Verdict,
} from './rules/rule.js';

/** The version of this package, as published. */
export const scannerVersion: string = (
  requireFromScanPackage('./package.json') as { version: string }
).version;
