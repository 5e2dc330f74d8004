import { hasValidPrefixedCrc32 } from './checksums.js';
import { patternRule, type Rule } from './rule.js';

/**
 * GitHub classic tokens: `ghp_` (personal), `gho_` (OAuth), `ghu_` (user-to-server), `ghs_`
 * (server-to-server), `ghr_` (refresh), 30 random base62 characters and a CRC32 checksum of
 * them in six base62 characters. A bad checksum is a look-alike, not a token.
 */
export const githubClassicToken: Rule = patternRule({
  id: 'github-token',
  description: 'GitHub token (ghp_, gho_, ghu_, ghs_, ghr_) with a valid checksum',
  source:
    'https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/',
  keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'],
  confidence: 'high',
  pattern: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g,
  validate: (secret) => (hasValidPrefixedCrc32(secret, secret.slice(0, 4)) ? 'high' : null),
  vetoRejected: true,
});

/** GitHub fine-grained personal access tokens. */
export const githubFineGrainedToken: Rule = patternRule({
  id: 'github-fine-grained-token',
  description: 'GitHub fine-grained personal access token (github_pat_)',
  source:
    'https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/about-authentication-to-github#githubs-token-formats',
  keywords: ['github_pat_'],
  confidence: 'high',
  pattern: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}(?![A-Za-z0-9])/g,
});

/** GitLab tokens, each kind with its documented prefix. */
export const gitlabToken: Rule = patternRule({
  id: 'gitlab-token',
  description:
    'GitLab token (glpat-, gldt-, glrt-, glptt-, glft-, glcbt-, gloas-, … and runner registration)',
  source: 'https://docs.gitlab.com/security/tokens/#token-prefixes',
  keywords: [
    'glpat-',
    'gldt-',
    'glrt-',
    'glptt-',
    'glft-',
    'glsoat-',
    'gloas-',
    'glcbt-',
    'glimt-',
    'glagent-',
    'glwt-',
    'glffct-',
    'gr1348941',
  ],
  confidence: 'high',
  pattern:
    /(?<![A-Za-z0-9_-])(?:(?:glpat|gldt|glrt|glptt|glft|glsoat|gloas|glcbt|glimt|glagent|glwt|glffct)-|GR1348941)[A-Za-z0-9_.-]{20,}(?![A-Za-z0-9_-])/g,
});

/** Bitbucket app passwords and Atlassian API tokens (which Bitbucket also accepts). */
export const atlassianToken: Rule = patternRule({
  id: 'atlassian-token',
  description: 'Bitbucket app password (ATBB) or Atlassian API / access token (ATATT, ATCTT)',
  source: 'https://support.atlassian.com/bitbucket-cloud/docs/using-app-passwords/',
  keywords: ['atbb', 'atatt', 'atctt'],
  confidence: 'high',
  pattern:
    /(?<![A-Za-z0-9_-])(?:ATBB[A-Za-z0-9]{32,}|AT[AC]TT[A-Za-z0-9_=-]{100,})(?![A-Za-z0-9_=-])/g,
});
