/**
 * The blacklist: values that must never protect anything. The reasons returned name the kind of
 * mistake, never the value or the list entry it matched (that would print the value).
 */

/** What is wrong with a value found on the blacklist. */
export type Weakness =
  /** A common password or default credential. */
  | 'weak'
  /** A value copied from an example or template that was never replaced. */
  | 'placeholder'
  /** A development or test credential: fine locally, refused in production. */
  | 'development-value';

/** Exact values (compared lower-cased, and again with punctuation and trailing digits removed). */
const WEAK_VALUES = new Set([
  '123456',
  '12345678',
  '123456789',
  '1234567890',
  'abc123',
  'admin',
  'administrator',
  'changeit',
  'changeme',
  'default',
  'dragon',
  'guest',
  'iloveyou',
  'insecure',
  'jwtsecret',
  'letmein',
  'login',
  'master',
  'minioadmin',
  'monkey',
  'mysecret',
  'mysql',
  'notasecret',
  'notsecret',
  'pass',
  'passw0rd',
  'passwd',
  'password',
  'postgres',
  'qwerty',
  'redis',
  'root',
  'scheduler',
  'secret',
  'secretkey',
  'supersecret',
  'test',
  'toor',
  'trustno1',
  'welcome',
]);

/** Words a lazy secret is made of; a value that is little else is weak. */
const WEAK_WORDS = [
  'password',
  'passwd',
  'secret',
  'changeme',
  'change',
  'admin',
  'letmein',
  'qwerty',
  'welcome',
  'default',
  'production',
  'development',
  'prod',
  'staging',
  'test',
  'token',
  'pass',
  'root',
  'super',
  'jwt',
  'key',
  'api',
  'app',
  'dev',
  'my',
  // Rotation templates name the slot, not a value: seed 004's `previous_jwt_secret`.
  'previous',
  'prev',
  'current',
  'refresh',
  'next',
  'new',
  'old',
];

const SEQUENCES = [
  'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz',
  '01234567890123456789012345678901234567890123456789',
  'qwertyuiopasdfghjklzxcvbnm',
  'zyxwvutsrqponmlkjihgfedcbazyxwvutsrqponmlkjihgfedcba',
  '98765432109876543210987654321098765432109876543210',
];

/** Markers of template text, from the example files seen in real projects. */
const PLACEHOLDERS: readonly RegExp[] = [
  /your[-_/. ]/i, // your_jwt_secret, 0xYOUR_DEPLOYER_PRIVATE_KEY, YOUR/WEBHOOK/URL
  /your(?:domain|company|app|project|org|name|key|secret|password|token)/i,
  /change[_-]?me/i,
  /replace[_-]?(?:me|this|with)/i,
  /insert[_-]?(?:your|key|secret|here)/i,
  /placeholder/i,
  /example/i, // smtp.example.com, an_example_key
  /dummy/i,
  /x{4,}|X{4,}/, // s.xxxxxxxxxxxxxxxx (one case: random text mixes them)
  /\.\.\.|…/, // sk_test_..., {"kty":"RSA",...}
  /^<.*>$/s,
  /^\[.*\]$/s, // [PHONE]
  /^\{\{.*\}\}$/s,
  /^\$\{.*\}$/s, // an unexpanded ${VARIABLE}
  /^(?:todo|fixme|tbd|tba|n\/a|none|null|undefined)$/i,
  /(?:^|[^a-z])here$/i, // your-64-char-hex-string-here
];

/** Development and test credentials: accepted in development, refused in production. */
// One case only: random text mixes cases, people writing `dev-…` do not.
const DEVELOPMENT_PREFIXES =
  /^(?:sk|rk|pk)_test_|^(?:test|dev|sandbox|local)[_-]|^(?:TEST|DEV|SANDBOX|LOCAL)[_-]/;
const DEVELOPMENT_SUFFIXES = /[_-](?:test|dev|sandbox|local)$|[_-](?:TEST|DEV|SANDBOX|LOCAL)$/;
const DEVELOPMENT_VALUES = new Set(['dev', 'development', 'local', 'localdev', 'sandbox']);

/**
 * Checks a value against the blacklist: common and default passwords, placeholders left from
 * example files (the seeds' `your_…_here`, `changeme`, `sk_test_...`, `xxxx`), values made of
 * little but weak words (`my-jwt-secret`, `Password123!`, `previous_jwt_secret`), keyboard and alphabet runs, short
 * repeated patterns, and development or test credentials (Stripe `sk_test_` keys, `test-token`,
 * `sandbox-key`).
 *
 * @example
 * ```ts
 * classifyWeakValue('changeme');                    // 'placeholder'
 * classifyWeakValue('Password123!');                // 'weak'
 * classifyWeakValue('sk_test_4eC39HqLyjWDarjtT1zdp7dc'); // 'development-value'
 * classifyWeakValue(randomHex);                     // undefined
 * ```
 */
export function classifyWeakValue(value: string): Weakness | undefined {
  const text = value.trim();
  if (PLACEHOLDERS.some((pattern) => pattern.test(text))) return 'placeholder';
  const lower = text.toLowerCase();
  const alnum = lower.replace(/[^a-z0-9]/g, '');
  const letters = alnum.replace(/\d+$/, '');
  if (WEAK_VALUES.has(lower) || WEAK_VALUES.has(alnum) || WEAK_VALUES.has(letters)) return 'weak';
  if (isRunOrRepeat(lower) || isMadeOfWeakWords(alnum)) return 'weak';
  if (
    DEVELOPMENT_VALUES.has(lower) ||
    DEVELOPMENT_PREFIXES.test(text) ||
    DEVELOPMENT_SUFFIXES.test(text)
  ) {
    return 'development-value';
  }
  return undefined;
}

/** A short human reason for each weakness, safe to print (it never quotes the value). */
export const weaknessReasons: Readonly<Record<Weakness, string>> = {
  weak: 'known weak value (a common or default password, or made of little but common words)',
  placeholder: 'placeholder value left from an example or template',
  'development-value': 'development or test credential (refused in production)',
};

function isRunOrRepeat(lower: string): boolean {
  if (lower.length >= 4 && SEQUENCES.some((run) => run.includes(lower))) return true;
  return /^(.{1,4})\1+$/s.test(lower);
}

function isMadeOfWeakWords(alnum: string): boolean {
  if (alnum.length === 0) return false;
  let rest = alnum.replace(/\d+/g, '');
  const before = rest.length;
  for (const word of WEAK_WORDS) rest = rest.split(word).join('');
  // Mostly weak words, and fewer than six characters of anything else.
  return rest.length * 2 <= before && rest.length < 6 && alnum.length < 40;
}
