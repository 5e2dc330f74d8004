import { patternRule, type Rule } from './rule.js';

/** `.netrc` entries: `machine <host> [login <user>] password <password>`. */
export const netrcPassword: Rule = patternRule({
  id: 'netrc-password',
  description: '.netrc machine password',
  source: 'https://www.gnu.org/software/inetutils/manual/html_node/The-_002enetrc-file.html',
  keywords: ['machine'],
  confidence: 'high',
  pattern: /\bmachine\s+\S+\s+(?:login\s+\S+\s+)?password\s+(?<secret>\S{4,})/g,
});

/**
 * Docker `config.json` credentials: `auths.<registry>.auth` is base64 of `user:password`
 * (and `identitytoken` a registry refresh token).
 */
export const dockerConfigAuth: Rule = patternRule({
  id: 'docker-config-auth',
  description: 'Docker config.json registry credential (auths.*.auth, identitytoken)',
  source: 'https://docs.docker.com/reference/cli/docker/login/',
  keywords: ['"auth"', '"identitytoken"'],
  confidence: 'high',
  pattern: /"(?<field>auth|identitytoken)"\s*:\s*"(?<secret>[A-Za-z0-9+/_.-]{12,}={0,2})"/g,
  validate: (secret, match) => {
    if (match.groups?.field === 'identitytoken') return 'high';
    const decoded = Buffer.from(secret, 'base64').toString('utf8');
    return /^[^:\s]+:\S{3,}$/.test(decoded) ? 'high' : null;
  },
});
