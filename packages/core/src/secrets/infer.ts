import type { SecretRuleOptions } from './rules.js';
import { type SecretsSchema, schemaFromRules } from './schema.js';

/** What a variable name says about its value. */
export type SecretNameKind = 'password' | 'key' | 'token';

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

const PASSWORD_WORDS = ['PASSWORD', 'PASSWD', 'PASS', 'PWD', 'PASSPHRASE'];
const KEY_WORDS = ['SECRET', 'SECRETS', 'KEY', 'KEYS', 'APIKEY', 'PRIVATE'];
const TOKEN_WORDS = ['TOKEN', 'CREDENTIAL', 'CREDENTIALS', 'AUTH'];
/** Name endings that describe something about a secret rather than the secret itself. */
const NOT_SECRET_SUFFIXES = [
  'ID',
  'USER',
  'USERNAME',
  'HOST',
  'PORT',
  'URL',
  'URI',
  'ENABLED',
  'FILE',
  'PATH',
  'DIR',
  'REGION',
  'TTL',
  'ALGORITHM',
  'ALG',
  'LENGTH',
  'EXPIRES_IN',
  'EXPIRY',
  'SOCK',
  'SOCKET',
  'TYPE',
  'NAME',
];

/**
 * Classifies a variable name: a password, a key or a token — or `undefined` when it does not
 * look like a secret. The name is split on `_`, `-` and `.`; a segment that is PASSWORD,
 * PASSWD, PASS, PWD or PASSPHRASE makes a password; SECRET, KEY, APIKEY or PRIVATE a key; TOKEN,
 * CREDENTIAL or AUTH a token (in that order of precedence). Words of five letters or more also
 * count at the end of a segment (`DBPASSWORD`, `CLIENTSECRET`). Names ending in `_ID`, `_USER`, `_HOST`,
 * `_PORT`, `_URL`, `_ENABLED`, `_FILE`, `_PATH`, `_TYPE`, `_NAME`, … describe a secret rather
 * than hold one and are not secrets.
 *
 * @example
 * ```ts
 * secretKindOfName('SMTP_PASS');           // 'password'
 * secretKindOfName('JWT_REFRESH_SECRET');  // 'key'
 * secretKindOfName('TWILIO_AUTH_TOKEN');   // 'token'
 * secretKindOfName('AWS_ACCESS_KEY_ID');   // undefined
 * ```
 */
export function secretKindOfName(name: string): SecretNameKind | undefined {
  const upper = name.toUpperCase();
  if (NOT_SECRET_SUFFIXES.some((suffix) => upper.endsWith(`_${suffix}`))) return undefined;
  const segments = upper.split(/[_.-]+/).filter((s) => s !== '');
  const has = (words: readonly string[]) =>
    segments.some((segment) =>
      // Short words match whole segments only (not MONKEY, BYPASS); long ones also end one
      // (DBPASSWORD, CLIENTSECRET).
      words.some((word) => segment === word || (word.length >= 5 && segment.endsWith(word))),
    );
  if (has(PASSWORD_WORDS)) return 'password';
  if (has(KEY_WORDS)) return 'key';
  if (has(TOKEN_WORDS)) return 'token';
  return undefined;
}

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
