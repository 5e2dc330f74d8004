import { type Confidence, patternRule, type Rule, weaker } from './rule.js';

const FAMILIES: ReadonlyArray<readonly [RegExp, string, Confidence]> = [
  [/^postgres(?:ql)?$/, 'postgresql-uri-password', 'high'],
  [/^(?:mysql|mariadb|mysqlx)$/, 'mysql-uri-password', 'high'],
  [/^mongodb(?:\+srv)?$/, 'mongodb-uri-password', 'high'],
  [/^rediss?$/, 'redis-uri-password', 'high'],
  [/^amqps?$/, 'amqp-uri-password', 'high'],
  [/^smtps?$/, 'smtp-uri-password', 'high'],
  [/^(?:https?|ftps?|sftp|ssh|ldaps?|git|svn|nats|mqtts?|wss?)$/, 'url-basic-auth', 'medium'],
];

const DEV_HOSTS =
  /^(?:localhost|127\.0\.0\.1|0\.0\.0\.0|::1|\[::1\]|example\.(?:com|org|net)|[\w.-]+\.example(?:\.com)?|host|hostname|db|database|server)$/i;

function decoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * URIs with a password in their user information (RFC 3986 §3.2.1): database, cache, queue and
 * mail URLs, and basic auth in HTTP(S)/FTP/SSH/LDAP URLs, each family reported under its own id.
 * Passwords on development hosts (localhost, example.com, `db`) are reported one level lower,
 * and a password shorter than six characters or equal to its user name at low confidence.
 */
export const connectionUri: Rule = patternRule({
  id: 'uri-password',
  description:
    'connection string or URL with a password (PostgreSQL, MySQL, MongoDB, Redis, AMQP, SMTP, HTTP basic auth, …)',
  source: 'https://www.rfc-editor.org/rfc/rfc3986#section-3.2.1',
  keywords: ['://'],
  confidence: 'high',
  variants: FAMILIES.map(([, id]) => id),
  // Anchored on the literal `://` (fast to find); the scheme is read backwards from there.
  pattern: /:\/\/(?<user>[^\s:@/'"<>`]*):(?<secret>[^\s@/'"<>`]+)@(?<host>[^\s/'"<>`?#:,;]+)/g,
  validate: (secret, match) => {
    const before = match.input.slice(Math.max(0, match.index - 17), match.index);
    const scheme = (
      /(?:^|[^A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{1,15})$/.exec(before)?.[1] ?? ''
    ).toLowerCase();
    const family = FAMILIES.find(([pattern]) => pattern.test(scheme));
    if (family === undefined) return null;
    let confidence = family[2];
    if (DEV_HOSTS.test(match.groups?.host ?? '')) confidence = weaker(confidence);
    const password = decoded(secret);
    if (password === decoded(match.groups?.user ?? '') || password.length < 6) confidence = 'low';
    return { confidence, ruleId: family[1] };
  },
});
