import { CustosError } from '../errors/index.js';
import type { Secret } from '../redaction/secret.js';
import type { StandardSchemaV1 } from './standard-schema.js';
import { VALUE_ENCODINGS, type ValueEncoding } from './strength.js';

/**
 * A condition on other variables: every listed variable must equal one of the given values
 * (compared trimmed and case-insensitively). `{ EMAIL_ENABLED: 'true' }`,
 * `{ STORAGE_TYPE: ['ipfs', 'both'] }`.
 */
export type Condition = Readonly<Record<string, string | readonly string[]>>;

/** Options of {@link secret}. */
export interface SecretRuleOptions {
  /** How the value is written (default `any`: UTF-8 text). */
  readonly encoding?: ValueEncoding;
  /** Minimum decoded bytes (default 16 for sensitive values, 1 otherwise). */
  readonly minBytes?: number;
  /**
   * Minimum estimated entropy in bits (default 3 bits per required byte; 0 turns the check
   * off; PEM values are not estimated).
   */
  readonly minEntropyBits?: number;
  /** The variable may be absent. */
  readonly optional?: boolean;
  /** Required only when the condition holds; absent otherwise is fine. */
  readonly requiredWhen?: Condition;
  /**
   * Default true: the value is a secret — strength-checked, wrapped in `Secret`, registered
   * with the scrubber. False for plain configuration (`SMTP_HOST`, `STORAGE_TYPE`): the result
   * is a string and only presence, `oneOf` and placeholders are checked.
   */
  readonly sensitive?: boolean;
  /** Allowed values (compared exactly). */
  readonly oneOf?: readonly string[];
}

/** A rule with every default filled in: plain data, so rules survive being loaded twice. */
export interface ResolvedRule {
  readonly encoding: ValueEncoding;
  readonly minBytes: number;
  readonly minEntropyBits: number;
  readonly optional: boolean;
  readonly requiredWhen: Condition | undefined;
  readonly sensitive: boolean;
  readonly oneOf: readonly string[] | undefined;
}

type BaseOutput<O> = O extends { readonly sensitive: false }
  ? O extends { readonly oneOf: readonly (infer U extends string)[] }
    ? U
    : string
  : Secret<string>;

/** The typed result of a rule: `Secret<string>` for secrets, `string` (or the `oneOf` union) otherwise, `| undefined` when it may be absent. */
export type RuleOutput<O> = O extends { readonly optional: true }
  ? BaseOutput<O> | undefined
  : O extends { readonly requiredWhen: Condition }
    ? BaseOutput<O> | undefined
    : BaseOutput<O>;

/**
 * One variable's rule. It is also a Standard Schema for a single value (`string | undefined`);
 * `requiredWhen` needs the other variables, so alone it counts as optional — use the whole
 * {@link defineSecrets} schema for cross-variable rules.
 */
export interface SecretRule<Output = Secret<string>> extends StandardSchemaV1<unknown, Output> {
  readonly rule: ResolvedRule;
}

/** Marks an object as a custos rule or schema across copies of the library. */
export const RULE_BRAND = Symbol.for('custos.secrets.rule');

/**
 * Checks and completes rule options. Throws `ERR_INVALID_SCHEMA` naming the bad option.
 * @internal
 */
export function resolveRule(options: SecretRuleOptions, where = 'secret()'): ResolvedRule {
  const fail = (message: string): never => {
    throw new CustosError('ERR_INVALID_SCHEMA', `${where}: ${message}`);
  };
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  const known = [
    'encoding',
    'minBytes',
    'minEntropyBits',
    'optional',
    'requiredWhen',
    'sensitive',
    'oneOf',
  ];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) fail(`unknown option "${key}" (known: ${known.join(', ')})`);
  }
  const sensitive = options.sensitive ?? true;
  if (typeof sensitive !== 'boolean') fail('sensitive must be true or false');
  const encoding = options.encoding ?? 'any';
  if (!VALUE_ENCODINGS.includes(encoding)) {
    fail(`encoding must be one of ${VALUE_ENCODINGS.join(', ')}`);
  }
  const minBytes = options.minBytes ?? (sensitive ? 16 : 1);
  if (!Number.isInteger(minBytes) || minBytes < 0 || minBytes > 65536) {
    fail('minBytes must be an integer from 0 to 65536');
  }
  const defaultEntropy = sensitive && encoding !== 'pem' ? minBytes * 3 : 0;
  const minEntropyBits = options.minEntropyBits ?? defaultEntropy;
  if (typeof minEntropyBits !== 'number' || !(minEntropyBits >= 0 && minEntropyBits <= 65536)) {
    fail('minEntropyBits must be a number from 0 to 65536');
  }
  const optional = options.optional ?? false;
  if (typeof optional !== 'boolean') fail('optional must be true or false');
  const oneOf = options.oneOf;
  if (oneOf !== undefined) {
    if (!Array.isArray(oneOf) || oneOf.length === 0 || oneOf.some((v) => typeof v !== 'string')) {
      fail('oneOf must be a non-empty array of strings');
    }
  }
  return Object.freeze({
    encoding,
    minBytes,
    minEntropyBits,
    optional,
    requiredWhen: resolveCondition(options.requiredWhen, fail),
    sensitive,
    oneOf: oneOf === undefined ? undefined : Object.freeze([...oneOf]),
  });
}

function resolveCondition(
  condition: Condition | undefined,
  fail: (message: string) => never,
): Condition | undefined {
  if (condition === undefined) return undefined;
  if (typeof condition !== 'object' || condition === null || Array.isArray(condition)) {
    fail('requiredWhen must be an object such as { EMAIL_ENABLED: "true" }');
  }
  const entries = Object.entries(condition);
  if (entries.length === 0) fail('requiredWhen names no variable');
  const out: Record<string, string | readonly string[]> = {};
  for (const [name, expected] of entries) {
    const values = typeof expected === 'string' ? [expected] : expected;
    if (
      !Array.isArray(values) ||
      values.length === 0 ||
      values.some((v) => typeof v !== 'string')
    ) {
      fail(`requiredWhen.${name} must be a string or a non-empty array of strings`);
    }
    out[name] = typeof expected === 'string' ? expected : Object.freeze([...values]);
  }
  return Object.freeze(out);
}

/** Whether `condition` holds, reading other variables through `lookup`. @internal */
export function conditionHolds(
  condition: Condition,
  lookup: (name: string) => string | undefined,
): boolean {
  return Object.entries(condition).every(([name, expected]) => {
    const actual = lookup(name)?.trim().toLowerCase();
    if (actual === undefined || actual === '') return false;
    const allowed = typeof expected === 'string' ? [expected] : expected;
    return allowed.some((value) => value.trim().toLowerCase() === actual);
  });
}

/** Describes a condition for messages: `EMAIL_ENABLED=true`, `STORAGE_TYPE=ipfs|both`. */
export function describeCondition(condition: Condition): string {
  return Object.entries(condition)
    .map(
      ([name, expected]) =>
        `${name}=${typeof expected === 'string' ? expected : expected.join('|')}`,
    )
    .join(' and ');
}
