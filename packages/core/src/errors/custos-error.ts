import type { ErrorCode } from './codes.js';

/**
 * Base class of every custos error. `code` is stable across releases. `Code` is the table the
 * code comes from: the library's {@link ErrorCode} unless a package with its own table (the
 * server) says otherwise; it is never inferred from the argument, so a code missing from the
 * table does not compile.
 *
 * @example
 * ```ts
 * throw new CustosError('ERR_INVALID_ARGUMENT', 'bits must be 128, 256 or 512');
 * ```
 */
export class CustosError<Code extends string = ErrorCode> extends Error {
  readonly code: Code;

  constructor(code: NoInfer<Code>, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * A ciphertext could not be authenticated or opened: a changed byte, wrong associated data,
 * wrong key context, or a key or version this keyring does not hold.
 *
 * @example
 * ```ts
 * expect(() => keyring.decrypt(tampered)).toThrow(DecryptionFailed);
 * ```
 */
export class DecryptionFailed extends CustosError {
  constructor(
    message = 'decryption failed: the ciphertext or its associated data is not authentic',
    options?: ErrorOptions,
  ) {
    super('ERR_DECRYPTION_FAILED', message, options);
  }
}

/**
 * A ciphertext envelope is structurally invalid (unknown format version or algorithm, too short,
 * bad text encoding).
 *
 * @example
 * ```ts
 * expect(() => keyring.decrypt('custos:')).toThrow(MalformedCiphertext);
 * ```
 */
export class MalformedCiphertext extends CustosError {
  constructor(message: string) {
    super('ERR_MALFORMED_CIPHERTEXT', message);
  }
}

/**
 * No key with the given name exists.
 *
 * @example
 * ```ts
 * expect(() => keyring.encrypt('missing', data)).toThrow(KeyNotFound);
 * ```
 */
export class KeyNotFound extends CustosError {
  constructor(message: string) {
    super('ERR_KEY_NOT_FOUND', message);
  }
}

/**
 * The key version exists but its state forbids the operation.
 *
 * @example
 * ```ts
 * keyring.setMinDecryptionVersion('fields', 2);
 * expect(() => keyring.decrypt(oldEnvelope)).toThrow(KeyDisabled);
 * ```
 */
export class KeyDisabled extends CustosError {
  constructor(message: string) {
    super('ERR_KEY_DISABLED', message);
  }
}

/**
 * The caller may not perform the operation. The message is deliberately the same whatever the
 * reason (no token, unknown, expired, revoked, or no policy allows it).
 *
 * @example
 * ```ts
 * if (!acl.allows(path, 'read')) throw new PermissionDenied();
 * ```
 */
export class PermissionDenied extends CustosError {
  constructor(message = 'permission denied') {
    super('ERR_PERMISSION_DENIED', message);
  }
}

/**
 * Narrows an unknown thrown value to a {@link CustosError}, optionally of one code. The narrowed
 * type carries the library's codes; an error of the server's own table (a server run in-process)
 * passes too, with a code listed in the server section of `docs/errors.md`.
 *
 * @example
 * ```ts
 * if (isCustosError(err, 'ERR_KEY_NOT_FOUND')) return undefined;
 * ```
 */
export function isCustosError(value: unknown, code?: ErrorCode): value is CustosError {
  return value instanceof CustosError && (code === undefined || value.code === code);
}
