import { hasValidPrefixedCrc32 } from './checksums.js';
import { patternRule, type Rule } from './rule.js';

/** npm access tokens: `npm_`, 30 random base62 characters and their CRC32 in base62 (6). */
export const npmToken: Rule = patternRule({
  id: 'npm-token',
  description: 'npm access token (npm_) with a valid checksum',
  source: 'https://github.blog/security/announcing-npms-new-access-token-format/',
  keywords: ['npm_'],
  confidence: 'high',
  pattern: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g,
  validate: (secret) => (hasValidPrefixedCrc32(secret, 'npm_') ? 'high' : null),
  vetoRejected: true,
});

/**
 * PyPI API tokens: `pypi-` and a macaroon whose serialisation starts with the location
 * `pypi.org` (`AgEIcHlwaS5vcmc`) or `test.pypi.org` (`AgENdGVzdC5weXBpLm9yZw`).
 */
export const pypiToken: Rule = patternRule({
  id: 'pypi-token',
  description: 'PyPI / TestPyPI API token (pypi-)',
  source: 'https://pypi.org/help/#apitoken',
  keywords: ['pypi-age'],
  confidence: 'high',
  pattern: /(?<![A-Za-z0-9_-])pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,}/g,
});

/** Credentials in `.npmrc`: `_authToken`, `_auth` (base64 user:password), `_password`. */
export const npmrcCredential: Rule = patternRule({
  id: 'npmrc-credential',
  description: '.npmrc credential (_authToken, _auth, _password)',
  source: 'https://docs.npmjs.com/cli/v10/configuring-npm/npmrc#auth-related-configuration',
  keywords: ['_authtoken', '_auth', '_password'],
  confidence: 'high',
  pattern: /(?:^|[\s:])_(?:authToken|auth|password)\s*=\s*["']?(?<secret>[^\s"']{8,})/gm,
});
