/** What a name says about the value assigned to it. */
export type SecretNameKind = 'password' | 'jwt-secret' | 'secret';

// Last words that make a name describe something about a secret rather than hold one.
const NOT_A_VALUE = new Set(
  (
    'name names id ids url uri urls path paths file files filename dir length len type types field ' +
    'fields header prefix suffix env var vars hash hashed digest policy endpoint format count ttl ' +
    'expiry expires expiration expire at required label placeholder regex regexp pattern min max ' +
    'version mode store provider ref arn kid size limit timeout enabled enable rotation template ' +
    'source location param params option options config method strategy algorithm alg scheme host ' +
    'port user username login email hint error errors message msg text title description help ' +
    'prompt validator validation schema strength reset changed change manager service class ' +
    'handler input form box visible visibility mask masked icon index position offset client ' +
    'generator factory bytes bits lifetime duration seconds ms minutes days cache table column ' +
    'audience issuer scope scopes claim claims backend engine mount request response result keys ' +
    'secrets tokens passwords credentials sid region account entropy rule rules check checker ' +
    'match matcher storage selector'
  ).split(' '),
);

const KEY_QUALIFIERS = new Set(
  (
    'api access secret private signing sign encryption encrypt decryption master auth app ' +
    'application account service session cookie hmac jwt webhook storage shared consumer license ' +
    'subscription admin root crypto cipher aes dek kek client ssh deploy'
  ).split(' '),
);

const JOINED_KEYS =
  /(?:apikey|secretkey|privatekey|accesskey|authkey|masterkey|encryptionkey|signingkey|sessionkey|appkey|clientkey)$/;

/** Splits an identifier into lowercase words (`dbPassword`, `DB_PASSWORD`, `db-password`). */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 0);
}

/**
 * Whether `name` (a variable, key or property name) holds a password, a JWT signing secret or
 * another secret, or `null` when it does not (or names something about one: `password_length`,
 * `token_url`, `public_key`).
 *
 * @example
 * ```ts
 * classifySecretName('DB_PASSWORD'); // "password"
 * classifySecretName('tokenUrl'); // null
 * ```
 */
export function classifySecretName(name: string): SecretNameKind | null {
  const words = nameWords(name);
  const last = words.at(-1);
  if (last === undefined || NOT_A_VALUE.has(last)) return null;
  if (words.includes('public') || words.includes('pub')) return null;
  if (
    words.some(
      (word) =>
        word === 'pass' ||
        word === 'pwd' ||
        word.endsWith('password') ||
        word.endsWith('passwd') ||
        word.endsWith('passphrase'),
    )
  ) {
    return 'password';
  }
  const secretWord = words.some(
    (word, i) =>
      word.endsWith('secret') ||
      word.endsWith('token') ||
      word === 'credential' ||
      word === 'credentials' ||
      word === 'auth' ||
      word === 'authorization' ||
      word === 'bearer' ||
      JOINED_KEYS.test(word) ||
      (word === 'key' && i > 0 && KEY_QUALIFIERS.has(words[i - 1] as string)),
  );
  if (!secretWord) return null;
  return words.includes('jwt') ? 'jwt-secret' : 'secret';
}
