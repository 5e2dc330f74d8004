import { characterClasses } from '../filters/entropy.js';
import { patternRule, type Rule } from './rule.js';

/**
 * OpenAI keys: `sk-`, `sk-proj-`, `sk-svcacct-` or `sk-admin-`; generated keys carry
 * `T3BlbkFJ` (base64 of "OpenAI") in the middle, which makes them high confidence.
 */
export const openaiKey: Rule = patternRule({
  id: 'openai-api-key',
  description: 'OpenAI API key (sk-, sk-proj-, sk-svcacct-, sk-admin-)',
  source: 'https://platform.openai.com/docs/api-reference/authentication',
  keywords: ['sk-'],
  confidence: 'high',
  pattern:
    /(?<![A-Za-z0-9_-])sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}(?![A-Za-z0-9_-])|(?<![A-Za-z0-9_-])sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{48,}(?![A-Za-z0-9_-])/g,
  validate: (secret) => (secret.includes('T3BlbkFJ') ? 'high' : 'medium'),
});

/** Anthropic API and admin keys (`sk-ant-api03-…`, `sk-ant-admin01-…`). */
export const anthropicKey: Rule = patternRule({
  id: 'anthropic-api-key',
  description: 'Anthropic API or admin key (sk-ant-)',
  source: 'https://docs.anthropic.com/en/api/overview',
  keywords: ['sk-ant-'],
  confidence: 'high',
  pattern: /(?<![A-Za-z0-9_-])sk-ant-[a-z]+\d\d-[A-Za-z0-9_-]{80,}(?![A-Za-z0-9_-])/g,
});

/** Hugging Face user access tokens (`hf_`). */
export const huggingFaceToken: Rule = patternRule({
  id: 'huggingface-token',
  description: 'Hugging Face user access token (hf_)',
  source: 'https://huggingface.co/docs/hub/security-tokens',
  keywords: ['hf_'],
  confidence: 'high',
  pattern: /(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{34,40}(?![A-Za-z0-9_])/g,
  validate: (secret) => (characterClasses(secret.slice(3)) >= 3 ? 'high' : null),
});

/** Other AI providers with documented key prefixes: Groq, xAI, Replicate, Perplexity. */
export const aiProviderKey: Rule = patternRule({
  id: 'ai-provider-api-key',
  description: 'Groq (gsk_), xAI (xai-), Replicate (r8_) or Perplexity (pplx-) API key',
  source: 'https://console.groq.com/docs',
  keywords: ['gsk_', 'xai-', 'r8_', 'pplx-'],
  confidence: 'high',
  pattern:
    /(?<![A-Za-z0-9_-])(?:gsk_[A-Za-z0-9]{52}|xai-[A-Za-z0-9]{80}|r8_[A-Za-z0-9]{37}|pplx-[A-Za-z0-9]{48})(?![A-Za-z0-9_-])/g,
  validate: (secret) => (characterClasses(secret.slice(4)) >= 3 ? 'high' : null),
});
