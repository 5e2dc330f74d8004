import { CustosError } from '../errors/index.js';
import { defaultScrubber } from '../redaction/scrubber.js';
import { formatProblem } from './problems.js';
import { defaultEnvironment, emitWarning } from './provider.js';
import { registerReadValue } from './register-values.js';
import {
  type ResolvedRule,
  RULE_BRAND,
  type RuleOutput,
  resolveRule,
  type SecretRule,
  type SecretRuleOptions,
} from './rules.js';
import type { StandardResult, StandardSchemaV1 } from './standard-schema.js';
import { type ValidationResult, validateRules } from './validate.js';

/**
 * Declares the rule of one variable. Without options: a secret of at least 16 bytes with an
 * entropy floor, checked against the blacklist of weak, placeholder and development values.
 *
 * @example
 * ```ts
 * secret({ encoding: 'hex', minBytes: 32 });                 // Secret<string>
 * secret({ requiredWhen: { EMAIL_ENABLED: 'true' } });       // Secret<string> | undefined
 * secret({ sensitive: false, oneOf: ['ipfs', 'arweave', 'both'] }); // 'ipfs' | 'arweave' | 'both'
 * ```
 */
export function secret<const O extends SecretRuleOptions = Record<never, never>>(
  options?: O,
): SecretRule<RuleOutput<O>> {
  return ruleFrom(resolveRule(options ?? {})) as SecretRule<RuleOutput<O>>;
}

function ruleFrom(rule: ResolvedRule): SecretRule<unknown> {
  return Object.freeze({
    rule,
    [RULE_BRAND]: 'rule',
    '~standard': {
      version: 1 as const,
      vendor: 'custos',
      validate(value: unknown): StandardResult<unknown> {
        if (value !== undefined && typeof value !== 'string') {
          return { issues: [{ message: 'expected a string' }] };
        }
        // As the SDK's load does: whatever the outcome, redact() removes the value from now on.
        if (value !== undefined) registerReadValue(defaultScrubber, value, rule.sensitive);
        // Alone, a rule cannot see the variables its condition names: it counts as optional.
        const alone = rule.requiredWhen === undefined ? rule : { ...rule, optional: true };
        const result = validateRules({ value: alone }, () => value, standardOptions());
        return toStandard(result, (values) => values.value, false);
      },
    },
  });
}

/** The rules of a schema, by variable name. */
export type SchemaShape = Readonly<Record<string, SecretRule<unknown>>>;

/** The typed result of a schema. */
export type SchemaOutput<S extends SchemaShape> = {
  readonly [K in keyof S]: S[K] extends SecretRule<infer O> ? O : never;
};

/**
 * A set of variable rules, validated together (so `requiredWhen` sees the other variables).
 * Load it with `secrets.load(schema)`, or use it as a Standard Schema over a record of strings
 * such as `process.env`.
 */
export interface SecretsSchema<S extends SchemaShape = SchemaShape>
  extends StandardSchemaV1<Readonly<Record<string, string | undefined>>, SchemaOutput<S>> {
  /** The resolved rule of each variable. */
  readonly rules: Readonly<Record<string, ResolvedRule>>;
  /** Every variable to read: the schema's own and those its conditions name. */
  readonly names: readonly string[];
}

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Defines the secrets and settings an application needs. Loading fails once with every
 * problem listed; values are typed.
 *
 * @example
 * ```ts
 * export const schema = defineSecrets({
 *   JWT_SECRET: secret({ minBytes: 32 }),
 *   ENCRYPTION_KEY: secret({ encoding: 'hex', minBytes: 32 }),
 *   DB_PASSWORD: secret(),
 *   EMAIL_ENABLED: secret({ sensitive: false, oneOf: ['true', 'false'], optional: true }),
 *   SMTP_PASS: secret({ requiredWhen: { EMAIL_ENABLED: 'true' } }),
 * });
 * const config = await createSecrets().load(schema);
 * config.JWT_SECRET.reveal();
 * ```
 */
export function defineSecrets<const S extends SchemaShape>(shape: S): SecretsSchema<S> {
  if (typeof shape !== 'object' || shape === null) {
    throw new CustosError('ERR_INVALID_SCHEMA', 'defineSecrets() takes an object of rules');
  }
  const rules: Record<string, ResolvedRule> = {};
  for (const [name, rule] of Object.entries(shape)) {
    if (!VARIABLE_NAME.test(name)) {
      throw new CustosError('ERR_INVALID_SCHEMA', `"${name}" is not a valid variable name`);
    }
    if (typeof rule !== 'object' || rule === null || typeof rule.rule !== 'object') {
      throw new CustosError('ERR_INVALID_SCHEMA', `${name}: expected a rule made with secret()`);
    }
    rules[name] = rule.rule;
  }
  return schemaFromRules(rules) as SecretsSchema<S>;
}

/**
 * Builds a schema from resolved (plain data) rules, re-checking each: used for schemas loaded
 * from JSON, from another copy of this library, or inferred from names.
 * @internal
 */
export function schemaFromRules(input: Readonly<Record<string, unknown>>): SecretsSchema {
  const rules: Record<string, ResolvedRule> = {};
  const names = new Set<string>();
  for (const [name, options] of Object.entries(input)) {
    if (!VARIABLE_NAME.test(name)) {
      throw new CustosError('ERR_INVALID_SCHEMA', `"${name}" is not a valid variable name`);
    }
    const rule = resolveRule(withoutUndefined(options), name);
    rules[name] = rule;
    names.add(name);
    for (const other of Object.keys(rule.requiredWhen ?? {})) names.add(other);
  }
  Object.freeze(rules);
  return Object.freeze({
    rules,
    names: Object.freeze([...names]),
    [RULE_BRAND]: 'schema',
    '~standard': {
      version: 1 as const,
      vendor: 'custos',
      validate(value: unknown): StandardResult<never> {
        if (typeof value !== 'object' || value === null) {
          return { issues: [{ message: 'expected an object of variables (such as process.env)' }] };
        }
        const record = value as Record<string, unknown>;
        const lookup = (name: string) => {
          const v = record[name];
          return typeof v === 'string' ? v : undefined;
        };
        // As the SDK's load does: whatever the outcome, redact() removes the secrets from now
        // on. A name only a condition reads is a plain setting.
        for (const name of names) {
          const read = lookup(name);
          if (read !== undefined) {
            registerReadValue(defaultScrubber, read, rules[name]?.sensitive === true);
          }
        }
        return toStandard(validateRules(rules, lookup, standardOptions()), (v) => v as never, true);
      },
    },
  }) as SecretsSchema;
}

/**
 * Whether a value is a custos schema (from this or another copy of the library).
 *
 * @example
 * ```ts
 * if (!isSecretsSchema(module.default)) throw new Error('no schema');
 * ```
 */
export function isSecretsSchema(value: unknown): value is SecretsSchema {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<PropertyKey, unknown>)[RULE_BRAND] === 'schema'
  );
}

function standardOptions() {
  return { production: defaultEnvironment() === 'production' };
}

function toStandard<T>(
  result: ValidationResult,
  pick: (values: Record<string, unknown>) => T,
  withPath: boolean,
): StandardResult<T> {
  for (const warning of result.warnings) emitWarning(formatProblem(warning));
  if (result.problems.length > 0) {
    return {
      issues: result.problems.map((p) =>
        withPath ? { message: p.detail, path: [p.name] } : { message: p.detail },
      ),
    };
  }
  return { value: pick(result.values) };
}

function withoutUndefined(options: unknown): SecretRuleOptions {
  if (typeof options !== 'object' || options === null) return options as SecretRuleOptions;
  return Object.fromEntries(
    Object.entries(options).filter(([, v]) => v !== undefined),
  ) as SecretRuleOptions;
}
