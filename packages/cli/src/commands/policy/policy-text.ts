import { CustosError } from '@custos/core/errors';

/**
 * Checks a policy file's text before it is sent: the server reads it (HCL, or Vault's JSON form
 * when it starts with `{`) and says what is wrong with it; only an empty file is refused here.
 * The text is sent exactly as written, so a read gives it back unchanged.
 *
 * @example
 * ```ts
 * policyDocument('path "secret/data/app/*" {\n  capabilities = ["read"]\n}\n', 'app.hcl');
 * ```
 */
export function policyDocument(text: string, source: string): string {
  if (text.trim() === '')
    throw new CustosError('ERR_INVALID_ARGUMENT', `the policy in ${source} is empty`);
  return text;
}
