import type { SecretRuleOptions } from './rules.js';
import { type SecretsSchema, schemaFromRules } from './schema.js';
import { type SecretNameKind, secretKindOfName } from './secret-names.js';

export type { SecretNameKind } from './secret-names.js';
export { secretKindOfName } from './secret-names.js';

/**
 * The strength rules `custos validate` applies from names alone (see `docs/secrets.md`):
 * passwords at least 16 bytes, keys and secrets at least 32, tokens and credentials at least
 * 16; each with the entropy floor of 3 bits per required byte and the blacklist.
 *
 * @example
 * ```ts
 * secret(NAME_KIND_RULES[secretKindOfName('DB_PASSWORD') ?? 'key']);
 * ```
 */
export const NAME_KIND_RULES: Readonly<Record<SecretNameKind, SecretRuleOptions>> = {
  password: { minBytes: 16 },
  key: { minBytes: 32 },
  token: { minBytes: 16 },
};

/** One variable of an example file, with the options its `# custos:` directives set. */
export interface ExampleVariable {
  readonly name: string;
  readonly options?: SecretRuleOptions;
}

/**
 * Builds a schema from variable names: every name required; names that look like secrets
 * (see {@link secretKindOfName}) get the strength rules of their kind; the others are plain
 * settings (presence and placeholders only). Options from `# custos:` directives override.
 *
 * @example
 * ```ts
 * const schema = inferSchema([{ name: 'JWT_SECRET' }, { name: 'DB_HOST' }]);
 * schema.rules.JWT_SECRET.minBytes; // 32
 * ```
 */
export function inferSchema(variables: readonly ExampleVariable[]): SecretsSchema {
  const rules: Record<string, SecretRuleOptions> = {};
  for (const { name, options = {} } of variables) {
    const kind = secretKindOfName(name);
    const base: SecretRuleOptions =
      options.sensitive === false
        ? {}
        : kind !== undefined
          ? NAME_KIND_RULES[kind]
          : options.sensitive === true
            ? {}
            : { sensitive: false };
    rules[name] = { ...base, ...options };
  }
  return schemaFromRules(rules);
}
