import { CustosError } from '@custos/core/errors';
import { invalidMarshaling } from '@custos/core/internal/transit';
import type { SignatureOptions } from '@custos/core/kms';
import { optionalBool } from '../../http/fields.js';

/**
 * Signature options of a sign or verify request (the hash from the path's `:algorithm`, else
 * the body), refused as a whole (before any item) when malformed, as in Vault.
 *
 * @example
 * ```ts
 * signatureOptions(request.params.algorithm, body); // { hashAlgorithm: 'sha2-256' }
 * ```
 */
export function signatureOptions(
  pathAlgorithm: string | undefined,
  body: Record<string, unknown>,
): SignatureOptions {
  const hash = pathAlgorithm ?? body.hash_algorithm ?? body.algorithm;
  const marshaling = body.marshaling_algorithm ?? undefined;
  if (marshaling !== undefined && marshaling !== 'asn1' && marshaling !== 'jws')
    throw invalidMarshaling();
  if (optionalBool(body.prehashed, 'prehashed'))
    throw new CustosError('ERR_INVALID_REQUEST', 'prehashed input is not supported');
  // RSA only; the key's type and the values are checked with the key (signatureParameters).
  const scheme = body.signature_algorithm;
  const salt = body.salt_length;
  return {
    ...(typeof hash === 'string' ? { hashAlgorithm: hash } : {}),
    ...(marshaling === undefined ? {} : { marshalingAlgorithm: marshaling }),
    ...(scheme === undefined || scheme === null || scheme === ''
      ? {}
      : { signatureAlgorithm: scheme as SignatureOptions['signatureAlgorithm'] & string }),
    ...(salt === undefined || salt === null || salt === ''
      ? {}
      : { saltLength: salt as SignatureOptions['saltLength'] & string }),
  };
}
