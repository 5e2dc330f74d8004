import { patternRule, type Rule } from './rule.js';

function header(token: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(
      Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'),
    );
    return typeof parsed === 'object' && parsed !== null
      ? (parsed as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/**
 * JSON Web Tokens (JWS compact form): a header that decodes to JSON with `alg`. Unsigned
 * tokens (`alg: none`, empty signature) grant nothing and are reported at low confidence.
 */
export const jsonWebToken: Rule = patternRule({
  id: 'jwt',
  description: 'JSON Web Token (signed; unsigned ones at low confidence)',
  source: 'https://www.rfc-editor.org/rfc/rfc7519',
  keywords: ['eyj'],
  confidence: 'medium',
  pattern:
    /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*(?![A-Za-z0-9_.-])/g,
  validate: (secret) => {
    const fields = header(secret);
    if (fields === null || typeof fields.alg !== 'string') return null;
    const unsigned = fields.alg.toLowerCase() === 'none' || secret.endsWith('.');
    return unsigned ? 'low' : 'medium';
  },
});
