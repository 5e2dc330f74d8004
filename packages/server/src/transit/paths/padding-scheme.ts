import { CustosError } from '@custos/core/errors';

/**
 * Refuses a Vault `padding_scheme` other than `oaep` (in the body or any batch item): custos's
 * RSA keys encrypt with RSA-OAEP only, and a request asking for PKCS#1 v1.5 must not silently get
 * OAEP ciphertexts its reader cannot open. The value is not quoted.
 *
 * @example
 * ```ts
 * refusePaddingScheme(body, items); // throws for { padding_scheme: 'pkcs1v15' }
 * ```
 */
export function refusePaddingScheme(
  body: Record<string, unknown>,
  items: readonly Record<string, unknown>[] = [],
): void {
  for (const item of [body, ...items]) {
    const scheme = item.padding_scheme;
    if (scheme !== undefined && scheme !== null && scheme !== '' && scheme !== 'oaep')
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        'unsupported padding_scheme; custos encrypts with RSA keys by oaep only',
      );
  }
}
