import { isCustosError } from '@custos/core/errors';
import { AwsError } from '../aws-error.js';

/**
 * Refusals of the KMS API in AWS's terms (`__type`, status 400 unless said otherwise). Messages
 * are written by custos: they name the key or the field, never a plaintext, a data key or an
 * encryption context value.
 *
 * @example
 * ```ts
 * throw kmsNotFound('key orders does not exist');
 * ```
 */
export const kmsNotFound = (message: string) => new AwsError('NotFoundException', message);

/** The key is disabled (`DisableKey`, a transit `inactive`, `revoked` or `expired` key). */
export const kmsDisabled = (message: string) => new AwsError('DisabledException', message);

/** The key's state does not allow the operation (pending deletion, …). */
export const kmsInvalidState = (message: string) =>
  new AwsError('KMSInvalidStateException', message);

/** The ciphertext blob is not one of this server's, was altered, or its context differs. */
export const kmsInvalidCiphertext = (message: string) =>
  new AwsError('InvalidCiphertextException', message);

/** A parameter is malformed; the message names the parameter, never its value. */
export const kmsValidation = (message: string) => new AwsError('ValidationException', message);

/** The key cannot serve this operation (encrypt with a signing key, sign with an AES key). */
export const kmsInvalidKeyUsage = (message: string) =>
  new AwsError('InvalidKeyUsageException', message);

/** Something AWS KMS does that this server does not (docs/aws.md lists what is served). */
export const kmsUnsupported = (message: string) =>
  new AwsError('UnsupportedOperationException', message);

/**
 * A transit refusal met while running a KMS operation, as AWS names it. Transit's messages are
 * kept (they name keys and versions, never data); anything that is not a custos error is
 * returned as it is (the API answers it as an internal error).
 *
 * @example
 * ```ts
 * try { decryptWithKey(view, input); } catch (err) { throw kmsErrorOf(err); }
 * ```
 */
export function kmsErrorOf(err: unknown): unknown {
  if (err instanceof AwsError || !isCustosError(err)) return err;
  switch (err.code) {
    case 'ERR_KEY_NOT_FOUND':
    case 'ERR_NOT_FOUND':
      return kmsNotFound('the key does not exist');
    case 'ERR_DECRYPTION_FAILED':
    case 'ERR_MALFORMED_CIPHERTEXT':
      return kmsInvalidCiphertext(
        'the ciphertext blob was altered, or its encryption context or key does not match',
      );
    case 'ERR_KEY_DISABLED':
      return kmsDisabled(err.message);
    case 'ERR_INVALID_KEY_STATE':
      return kmsInvalidState(err.message);
    case 'ERR_KEY_EXHAUSTED':
      return new AwsError('LimitExceededException', err.message);
    case 'ERR_INVALID_ARGUMENT':
    case 'ERR_INVALID_REQUEST':
      return kmsValidation(err.message);
    default:
      return err;
  }
}
