import { CustosError } from '@custos/core/errors';

/**
 * Checks a policy file's text before it is sent: the server reads Vault's JSON policy form only.
 * An HCL policy gets an error that says so (and how to write the JSON form), not the server's
 * parse error. The text itself is never quoted.
 *
 * @example
 * ```ts
 * policyDocument('{"path": {"secret/data/app/*": {"capabilities": ["read"]}}}', 'app.json');
 * ```
 */
export function policyDocument(text: string, source: string): string {
  const trimmed = text.trim();
  if (trimmed === '')
    throw new CustosError('ERR_INVALID_ARGUMENT', `the policy in ${source} is empty`);
  if (!trimmed.startsWith('{')) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `the policy in ${source} looks like HCL, which custos does not support yet: write it in Vault's JSON form, e.g. {"path": {"secret/data/app/*": {"capabilities": ["read"]}}}`,
    );
  }
  try {
    JSON.parse(trimmed);
  } catch {
    // The parser's message quotes the text: say only where to look.
    throw new CustosError('ERR_INVALID_ARGUMENT', `the policy in ${source} is not valid JSON`);
  }
  return trimmed;
}
