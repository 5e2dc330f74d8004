/** What a variable name says about its value. */
export type SecretNameKind = 'password' | 'key' | 'token';

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
 * than hold one and are not secrets by name. A URL can still carry one (`DATABASE_URL` with a
 * password, a Slack webhook): that is decided from the value, by `urlSecretParts`.
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
