import { hasValidApiKeyChecksum } from '@custos/core/api-keys';
import { characterClasses, shannonEntropy } from '../filters/entropy.js';
import { PROVIDER_PRIORITY, patternRule, type Rule } from './rule.js';

/** HashiCorp Vault service, batch and recovery tokens (`hvs.`, `hvb.`, `hvr.`). */
export const vaultToken: Rule = patternRule({
  id: 'vault-token',
  description: 'HashiCorp Vault token (hvs., hvb., hvr.)',
  source: 'https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes',
  keywords: ['hvs.', 'hvb.', 'hvr.'],
  confidence: 'high',
  pattern: /(?<![A-Za-z0-9_.-])hv[sbr]\.[A-Za-z0-9_-]{24,}(?![A-Za-z0-9_-])/g,
});

/** Vault tokens from before 1.10 (`s.`, `b.`, `r.` and 24 characters), in files that mention Vault. */
export const vaultLegacyToken: Rule = patternRule({
  id: 'vault-legacy-token',
  description:
    'HashiCorp Vault token of the pre-1.10 format (s., b., r.) in a file mentioning Vault',
  source: 'https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes',
  keywords: ['vault'],
  confidence: 'medium',
  pattern: /(?<![A-Za-z0-9_.-])[sbr]\.[A-Za-z0-9]{24}(?![A-Za-z0-9_.-])/g,
  validate: (secret) =>
    characterClasses(secret.slice(2)) === 3 && shannonEntropy(secret) >= 3.8 ? 'medium' : null,
});

/** custos server tokens (`cst.` and 32 base62 characters). */
export const custosToken: Rule = patternRule({
  id: 'custos-token',
  description: 'custos server token (cst.)',
  source: 'docs/server-api.md (custos repository)',
  keywords: ['cst.'],
  confidence: 'high',
  pattern: /(?<![A-Za-z0-9_.-])cst\.[A-Za-z0-9]{32}(?![A-Za-z0-9_-])/g,
});

// The key id, random part and checksum of a custos API key, without its prefix (which is the
// application's choice): a literal `_` first keeps this scan fast.
const API_KEY_TAIL = /_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}(?![0-9A-Za-z])/g;

/**
 * custos API keys: `<prefix>_<key id>_<random><CRC32 checksum>`; the checksum is checked with
 * `@custos/core/api-keys`, so only real keys are reported.
 */
export const custosApiKey: Rule = {
  id: 'custos-api-key',
  description: 'custos API key with a valid checksum',
  source: 'docs/passwords-and-api-keys.md (custos repository)',
  keywords: [],
  confidence: 'high',
  priority: PROVIDER_PRIORITY,
  *find(text) {
    const tail = new RegExp(API_KEY_TAIL);
    for (let match = tail.exec(text); match !== null; match = tail.exec(text)) {
      const end = match.index + match[0].length;
      // The prefix: lowercase words joined by `_`, at most 32 characters, at a word boundary.
      let start = match.index;
      while (start > match.index - 33 && start > 0 && /[a-z0-9_]/.test(text[start - 1] as string)) {
        start--;
      }
      if (start > 0 && /[A-Za-z0-9_]/.test(text[start - 1] as string)) continue;
      yield hasValidApiKeyChecksum(text.slice(start, end))
        ? { start, end, confidence: 'high' }
        : { start, end, confidence: 'low', veto: true };
    }
  },
};
