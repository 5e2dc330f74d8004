import { Secret } from '../redaction/secret.js';
import type { SecretProblem } from './problems.js';
import { conditionHolds, describeCondition, type ResolvedRule } from './rules.js';
import { decodedByteLength, estimateEntropyBits } from './strength.js';
import { urlSecretParts } from './url-secrets.js';
import { classifyWeakValue, weaknessReasons } from './weak-values.js';

/** Problems of one value, split by what they mean in this environment. */
export interface CheckResult {
  /** Refuse to start. */
  readonly errors: SecretProblem[];
  /** Report and go on (weak values outside production). */
  readonly warnings: SecretProblem[];
}

/**
 * Checks one present value against its rule. Strength problems (too short, low entropy, weak,
 * placeholder) are errors in production and warnings elsewhere; development credentials are
 * errors in production and fine elsewhere; a wrong encoding or a value outside `oneOf` is an
 * error everywhere. At most one blacklist finding is reported per value, since it explains
 * the rest. A plain setting that is a URL with a password has that password checked against
 * the blacklist the same way.
 * @internal
 */
export function checkValue(
  name: string,
  value: string,
  rule: ResolvedRule,
  production: boolean,
): CheckResult {
  const errors: SecretProblem[] = [];
  const strength: SecretProblem[] = [];
  if (rule.oneOf !== undefined && !rule.oneOf.includes(value)) {
    errors.push({ name, kind: 'not-allowed', detail: `must be one of ${rule.oneOf.join(', ')}` });
  }
  const weakness = classifyWeakValue(value);
  if (weakness === 'placeholder' || (rule.sensitive && weakness === 'weak')) {
    strength.push({ name, kind: weakness, detail: weaknessReasons[weakness] });
  } else if (rule.sensitive && weakness === 'development-value') {
    if (production) errors.push({ name, kind: weakness, detail: weaknessReasons[weakness] });
  } else {
    const bytes = decodedByteLength(value, rule.encoding);
    if (bytes === undefined) {
      errors.push({ name, kind: 'encoding', detail: `wrong encoding: expected ${rule.encoding}` });
    } else {
      if (bytes < rule.minBytes) {
        // Reported once: a value too short also misses its entropy floor, for the same reason.
        const detail = `too short: ${bytes} of ${rule.minBytes} bytes`;
        (rule.sensitive ? strength : errors).push({ name, kind: 'too-short', detail });
      } else if (rule.minEntropyBits > 0 && rule.encoding !== 'pem') {
        const bits = estimateEntropyBits(value);
        if (bits < rule.minEntropyBits) {
          strength.push({
            name,
            kind: 'low-entropy',
            detail: `low entropy: about ${Math.floor(bits)} of ${rule.minEntropyBits} bits`,
          });
        }
      }
    }
  }
  if (!rule.sensitive && errors.length === 0 && strength.length === 0) {
    checkUrlPassword(name, value, production, errors, strength);
  }
  return production
    ? { errors: [...errors, ...strength], warnings: [] }
    : { errors, warnings: strength };
}

/**
 * A plain setting holding a URL with a password (`DATABASE_URL=postgres://app:pw@db`) gets the
 * blacklist a password gets: weak and placeholder passwords fail in production (warnings
 * elsewhere), development credentials fail in production.
 */
function checkUrlPassword(
  name: string,
  value: string,
  production: boolean,
  errors: SecretProblem[],
  strength: SecretProblem[],
): void {
  const password = urlSecretParts(value)?.password;
  const weakness = password === undefined ? undefined : classifyWeakValue(password);
  if (weakness === undefined) return;
  const problem = {
    name,
    kind: weakness,
    detail: `the password in the URL: ${weaknessReasons[weakness]}`,
  };
  if (weakness !== 'development-value') strength.push(problem);
  else if (production) errors.push(problem);
}

/** The outcome of validating a whole set of rules. */
export interface ValidationResult<Output = Record<string, unknown>> {
  /** Every problem that makes the configuration unusable here. Empty means valid. */
  readonly problems: readonly SecretProblem[];
  /** Problems tolerated in this environment (weak values in development). */
  readonly warnings: readonly SecretProblem[];
  /** The typed values (secrets wrapped in `Secret`); complete only when `problems` is empty. */
  readonly values: Output;
}

/** Options of {@link validateRules}. */
export interface ValidateRulesOptions {
  readonly production: boolean;
  /** Variables whose provider failed, with a reason that holds no value. */
  readonly unreadable?: ReadonlyMap<string, string>;
}

/**
 * Validates every rule against the values `lookup` returns and collects every problem.
 * An empty string counts as not set.
 * @internal
 */
export function validateRules(
  rules: Readonly<Record<string, ResolvedRule>>,
  lookup: (name: string) => string | undefined,
  options: ValidateRulesOptions,
): ValidationResult {
  const problems: SecretProblem[] = [];
  const warnings: SecretProblem[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, rule] of Object.entries(rules)) {
    const unreadable = options.unreadable?.get(name);
    if (unreadable !== undefined) {
      problems.push({ name, kind: 'unreadable', detail: unreadable });
      continue;
    }
    const value = lookup(name);
    if (value === undefined || value === '') {
      values[name] = undefined;
      const required =
        rule.requiredWhen === undefined
          ? !rule.optional
          : conditionHolds(rule.requiredWhen, lookup);
      if (required) {
        const detail =
          rule.requiredWhen === undefined
            ? 'missing'
            : `missing (required when ${describeCondition(rule.requiredWhen)})`;
        problems.push({ name, kind: 'missing', detail });
      }
      continue;
    }
    const result = checkValue(name, value, rule, options.production);
    problems.push(...result.errors);
    warnings.push(...result.warnings);
    values[name] = rule.sensitive ? new Secret(value) : value;
  }
  return { problems, warnings, values: Object.freeze(values) };
}
