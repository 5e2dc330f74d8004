/**
 * Every error custos throws on purpose is a {@link CustosError} with a stable `code`.
 * Codes are never reused or renamed; `docs/errors.md` lists each one (a test keeps the
 * two in step). Messages name what is wrong and never carry a secret value.
 *
 * `errorCodes` is the library's table. The server throws a few codes of its own (seal, storage
 * integrity, audit, configuration), listed in the server section of `docs/errors.md`; through
 * the client an application sees a server's refusals as the library's codes (`ERR_SEALED`,
 * `ERR_PERMISSION_DENIED`, `ERR_NOT_FOUND`, `ERR_INVALID_REQUEST`).
 *
 * @example
 * ```ts
 * import { isCustosError } from '@custos/core/errors';
 * try {
 *   keyring.decrypt(envelope, { aad });
 * } catch (err) {
 *   if (isCustosError(err) && err.code === 'ERR_DECRYPTION_FAILED') reject();
 *   else throw err;
 * }
 * ```
 * @module
 */
export { type ErrorCode, errorCodes } from './codes.js';
export {
  CustosError,
  DecryptionFailed,
  isCustosError,
  KeyDisabled,
  KeyNotFound,
  MalformedCiphertext,
  PermissionDenied,
} from './custos-error.js';
