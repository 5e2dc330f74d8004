/** What a variable name says about its value. */
export type SecretNameKind = 'password' | 'key' | 'token';

// Matched anywhere in a segment of the name (DBPASS, SECRETKEY, APIKEY), in this precedence.
const PASSWORD_WORDS = ['PASSWORD', 'PASSWD', 'PASSPHRASE', 'PASS', 'PWD'];
const KEY_WORDS = ['SECRET', 'KEY', 'PRIVATE'];
const TOKEN_WORDS = ['TOKEN', 'CREDENTIAL', 'AUTH'];

/**
 * Ordinary words that contain a secret word; removed from a segment before matching, so
 * KEYBOARD_LAYOUT or PASSENGER_APP_ENV are settings while MONKEY_API_KEY is still a key.
 * AUTHOR covers AUTHORS, AUTHORITY and (UN)AUTHORIZED (`NODE_TLS_REJECT_UNAUTHORIZED`), but not
 * AUTHORIZATION, which may hold a credential.
 */
const ORDINARY_WORDS = new RegExp(
  [
    'KEYBOARD',
    'KEYWORD',
    'KEYSPACE',
    'KEYFRAME',
    'KEYPAD',
    'KEYSTROKE',
    'KEYNOTE',
    'KEYCODE',
    'KEYMAP',
    'KEYCLOAK',
    'KEYSTONE',
    'HOTKEY',
    'MONKEY',
    'DONKEY',
    'TURKEY',
    'HOCKEY',
    'JOCKEY',
    'WHISKEY',
    // libpq's sslkey and PGSSLKEY name the client key's file, not the key.
    'SSLKEY',
    'PASSENGER',
    'BYPASS',
    'COMPASS',
    'PASSIVE',
    'PASSTHROUGH',
    'PASSTHRU',
    'PASSAGE',
    'PASSPORT',
    'SURPASS',
    'OVERPASS',
    'UNDERPASS',
    'TRESPASS',
    'AUTHOR(?!I[SZ]ATION)',
    'SECRETARY',
    'TOKENIZER',
  ].join('|'),
  'g',
);

/** The shell's working directories, not passwords. */
const ORDINARY_NAMES = new Set(['PWD', 'OLDPWD']);

/** Name endings that describe something about a secret rather than the secret itself. */
const NOT_SECRET_SUFFIXES = [
  'ID',
  'USER',
  'USERNAME',
  'HOST',
  'PORT',
  'URL',
  'URI',
  'ENDPOINT',
  'DOMAIN',
  'REALM',
  'ISSUER',
  'AUDIENCE',
  'SCOPE',
  'SCOPES',
  'ENABLED',
  'FILE',
  'PATH',
  'DIR',
  'REGION',
  'PROVIDER',
  'BACKEND',
  'MODE',
  'TYPE',
  'NAME',
  'PREFIX',
  'VERSION',
  'ALGORITHM',
  'ALG',
  'LENGTH',
  'SIZE',
  'COUNT',
  'LIMIT',
  'MIN',
  'MAX',
  'TTL',
  'TIMEOUT',
  'INTERVAL',
  'MS',
  'SECONDS',
  'MINUTES',
  'HOURS',
  'DAYS',
  'EXPIRES_IN',
  'EXPIRY',
  'SOCK',
  'SOCKET',
];

/** Name beginnings that make a number: MAX_TOKENS, MIN_PASSWORD_LENGTH, NUM_KEYS. */
const NOT_SECRET_PREFIXES = ['MAX', 'MIN', 'NUM'];

/**
 * Classifies a variable name: a password, a key or a token — or `undefined` when it does not
 * look like a secret. The name is split on `_`, `-` and `.`; a segment containing PASSWORD,
 * PASSWD, PASSPHRASE, PASS or PWD makes a password; SECRET, KEY or PRIVATE a key; TOKEN,
 * CREDENTIAL or AUTH a token (in that order of precedence), so `DBPASS`, `SECRETKEY` and
 * `APIKEY` count. Ordinary words holding those letters (KEYBOARD, MONKEY, PASSENGER, BYPASS,
 * AUTHOR, SECRETARY, TOKENIZER, …) are removed from a segment first; `PWD` and `OLDPWD` are the
 * shell's directories. Names ending in `_ID`, `_USER`, `_HOST`, `_URL`, `_FILE`, `_PATH`,
 * `_PROVIDER`, `_MODE`, `_TYPE`, `_NAME`, units and counts (`_TIMEOUT`, `_DAYS`, `_LIMIT`, …),
 * or beginning with `MAX_`, `MIN_` or `NUM_`, describe a secret rather than hold one and are
 * not secrets by name. A URL can still carry one (`DATABASE_URL` with a password, a Slack
 * webhook): that is decided from the value, by `urlSecretParts`. The full lists are in
 * `docs/secrets.md`.
 *
 * @example
 * ```ts
 * secretKindOfName('SMTP_PASS');           // 'password'
 * secretKindOfName('JWT_REFRESH_SECRET');  // 'key'
 * secretKindOfName('STRIPE_APIKEY');       // 'key'
 * secretKindOfName('TWILIO_AUTH_TOKEN');   // 'token'
 * secretKindOfName('AWS_ACCESS_KEY_ID');   // undefined
 * secretKindOfName('KEYBOARD_LAYOUT');     // undefined
 * ```
 */
export function secretKindOfName(name: string): SecretNameKind | undefined {
  const upper = name.toUpperCase();
  if (ORDINARY_NAMES.has(upper)) return undefined;
  if (NOT_SECRET_SUFFIXES.some((suffix) => upper.endsWith(`_${suffix}`))) return undefined;
  if (NOT_SECRET_PREFIXES.some((prefix) => upper.startsWith(`${prefix}_`))) return undefined;
  const segments = upper
    .split(/[_.-]+/)
    .map((segment) => segment.replace(ORDINARY_WORDS, ' '))
    .filter((s) => s.trim() !== '');
  const has = (words: readonly string[]) =>
    segments.some((segment) => words.some((word) => segment.includes(word)));
  if (has(PASSWORD_WORDS)) return 'password';
  if (has(KEY_WORDS)) return 'key';
  if (has(TOKEN_WORDS)) return 'token';
  return undefined;
}
