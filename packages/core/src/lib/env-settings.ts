import { defaultScrubber } from '../redaction/scrubber.js';
import { type SecretProblem, SecretsInvalid } from '../secrets/problems.js';
import { defaultEnvironment } from '../secrets/provider.js';
import { registerReadValue } from '../secrets/register-values.js';
import { defineSecrets, type SchemaShape, secret } from '../secrets/schema.js';
import { validateRules } from '../secrets/validate.js';

/** The environment a setting is read from (`process.env` by default). */
export type SettingsEnv = Readonly<Record<string, string | undefined>>;

/** A plain, optional setting (`true` / `false`). */
export const booleanSetting = () =>
  secret({ sensitive: false, optional: true, oneOf: ['true', 'false'] });

/** A plain, optional setting of free text (numbers are parsed by {@link SettingsReader.integer}). */
export const textSetting = () => secret({ sensitive: false, optional: true });

/** Reads validated settings; collects every problem and throws them together in {@link done}. */
export interface SettingsReader {
  /** The setting's text, `undefined` when absent or empty (or when it failed its rule). */
  text(name: string): string | undefined;
  /** `true`/`false`, or `fallback` when absent. */
  boolean(name: string, fallback: boolean): boolean;
  /** A whole number within [min, max], or `fallback` when absent. */
  integer(name: string, fallback: number, range: { min: number; max: number }): number;
  /** Records a problem with a setting (its detail must not contain the value). */
  problem(name: string, detail: string): void;
  /** Throws `ERR_SECRETS_INVALID` listing every problem, if any. */
  done(): void;
}

/**
 * Validates settings through the secrets schema machinery (the same rules, problems and
 * `SecretsInvalid` error as `secrets.load`), for modules configured from the environment
 * (`HSTS_MAX_AGE`, `COOKIE_SECURE`, `TLS_MIN_VERSION` …).
 * @internal
 */
export function readSettings(shape: SchemaShape, env: SettingsEnv = process.env): SettingsReader {
  const schema = defineSecrets(shape);
  const lookup = (name: string) => {
    const value = env[name];
    return typeof value === 'string' ? value.trim() : undefined;
  };
  // As secrets.load does: a password read here (DB_PASSWORD, or one inside DATABASE_URL) is
  // redacted from logs from now on.
  for (const [name, rule] of Object.entries(schema.rules)) {
    const value = lookup(name);
    if (value !== undefined && value !== '')
      registerReadValue(defaultScrubber, value, rule.sensitive);
  }
  const result = validateRules(schema.rules, lookup, {
    production: defaultEnvironment(env as NodeJS.ProcessEnv) === 'production',
  });
  const problems: SecretProblem[] = [...result.problems];
  const failed = new Set(problems.map((p) => p.name));
  const text = (name: string) => {
    if (failed.has(name)) return undefined;
    const value = result.values[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  return {
    text,
    boolean(name, fallback) {
      const value = text(name);
      return value === undefined ? fallback : value === 'true';
    },
    integer(name, fallback, { min, max }) {
      const value = text(name);
      if (value === undefined) return fallback;
      const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
        problems.push({
          name,
          kind: 'not-allowed',
          detail: `must be a whole number from ${min} to ${max}`,
        });
        failed.add(name);
        return fallback;
      }
      return parsed;
    },
    problem(name, detail) {
      problems.push({ name, kind: 'not-allowed', detail });
      failed.add(name);
    },
    done() {
      if (problems.length > 0) throw new SecretsInvalid(problems);
    },
  };
}
