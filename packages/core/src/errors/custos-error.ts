import type { ErrorCode } from './codes.js';

/** The mark every copy of this class gives its errors: one symbol per process (`Symbol.for`). */
const CUSTOS_ERROR = Symbol.for('@custos/core.CustosError');

/**
 * Base class of every custos error. `code` is stable across releases. `Code` is the table the
 * code comes from: the library's {@link ErrorCode} unless a package with its own table (the
 * server) says otherwise; it is never inferred from the argument, so a code missing from the
 * table does not compile.
 *
 * `instanceof CustosError` holds for the errors of every copy of `@custos/core` in the process,
 * not only this one's: `custos server` runs a bundled copy beside the one a rotation plugin
 * imports, and an application may hold two versions. Each copy marks its errors with one
 * process-wide symbol. A subclass (`instanceof KeyNotFound`) answers for its own copy only:
 * test the `code`, as {@link isCustosError} does.
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

/** `instanceof`: CustosError itself answers by the mark of any copy; a subclass for its own. */
function hasInstance(this: unknown, value: unknown): boolean {
  if (this !== CustosError) return Function.prototype[Symbol.hasInstance].call(this, value);
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { [CUSTOS_ERROR]?: unknown })[CUSTOS_ERROR] === true
  );
}
Object.defineProperty(CustosError, Symbol.hasInstance, { value: hasInstance });
Object.defineProperty(CustosError.prototype, CUSTOS_ERROR, { value: true });

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
