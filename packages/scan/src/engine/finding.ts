import type { Confidence } from '../rules/rule.js';

/**
 * A secret found. Never holds the secret: only its keyed fingerprint and a redacted prefix.
 *
 * @example
 * ```ts
 * const { rule, file, line, column, fingerprint, redacted } = finding;
 * ```
 */
export interface Finding {
  /** The id of the rule (or rule variant) that found it. */
  readonly rule: string;
  /** The file, relative to the scanned root (`/` separators), or the name given to `scanText`. */
  readonly file: string;
  /** 1-based line and column of the secret's first character. */
  readonly line: number;
  readonly column: number;
  /** 1-based line and column just past the secret's last character. */
  readonly endLine: number;
  readonly endColumn: number;
  /** Keyed hash of the secret (see `fingerprintSecret`): what baselines and allowlists hold. */
  readonly fingerprint: string;
  readonly confidence: Confidence;
  /** At most the secret's first four characters and `…`. */
  readonly redacted: string;
  /** In a history scan: the commit that introduced the secret there, its author and date. */
  readonly commit?: string;
  readonly author?: string;
  readonly date?: string;
}
