/**
 * Every error custos throws on purpose is a {@link CustosError} with a stable `code`.
 * Codes are never reused or renamed; `docs/errors.md` lists each one (a test keeps the
 * two in step). Messages name what is wrong and never carry a secret value.
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

/** Every stable error code, with the one-line meaning documented in `docs/errors.md`. */
export const errorCodes = {
  // --- general and crypto core (C1) ---
  ERR_INVALID_ARGUMENT: 'An argument has the wrong type, length or form.',
  ERR_DECRYPTION_FAILED:
    'A ciphertext failed authentication, or names a key or version this keyring does not hold.',
  ERR_MALFORMED_CIPHERTEXT: 'A ciphertext envelope cannot be parsed.',
  ERR_KEY_NOT_FOUND: 'No key with that name exists.',
  ERR_KEY_EXISTS: 'A key with that name already exists.',
  ERR_KEY_DISABLED:
    'The key version exists but its state (disabled, destroyed, decrypt-only, below the minimum decryption version) forbids the operation.',
  ERR_KEY_EXHAUSTED:
    'The key version reached its encryption limit and must be rotated before encrypting again.',
  ERR_INVALID_KEY_STATE: 'The requested key state change is not allowed from the current state.',
  ERR_MALFORMED_KEYRING: 'A serialised keyring is not valid (bad JSON, truncated, wrong fields).',
  ERR_INSECURE_FILE: 'A file holding key material may be read by other users (mode is not 0600).',
  // --- secrets SDK and configuration validation (C2) ---
  // --- server: seal, auth, policies, KV v2, audit (C3) ---
  ERR_SEALED: 'The server is sealed: it holds no keys until unsealed with enough key shares.',
  ERR_NOT_INITIALIZED: 'The server has not been initialised yet (sys/init).',
  ERR_ALREADY_INITIALIZED: 'The server is already initialised; init runs once.',
  ERR_UNSEAL_FAILED: 'The unseal key shares given do not reproduce the root key.',
  ERR_PERMISSION_DENIED:
    'The token is missing, unknown, expired or revoked, or its policies do not allow the operation.',
  ERR_NOT_FOUND: 'Nothing exists at that path.',
  ERR_INVALID_REQUEST: 'The request is malformed or has an invalid parameter.',
  ERR_VERSION_CONFLICT:
    'Another writer changed the entry first (check-and-set or revision mismatch).',
  ERR_PAYLOAD_TOO_LARGE: 'The request body exceeds the configured size limit.',
  ERR_AUDIT_UNAVAILABLE: 'No audit sink recorded the request in time, so the request was refused.',
  ERR_INVALID_CONFIG: 'The server configuration is invalid.',
  // --- transit and key lifecycle (C4) ---
  // --- field-level encryption (C5) ---
  // --- tokens, passwords, API keys (C6) ---
} as const;

/** A stable custos error code, usable in `switch (err.code)`. */
export type ErrorCode = keyof typeof errorCodes;

/**
 * Base class of every custos error. `code` is stable across releases.
 *
 * @example
 * ```ts
 * throw new CustosError('ERR_INVALID_ARGUMENT', 'bits must be 128, 256 or 512');
 * ```
 */
export class CustosError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
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
 * The server is sealed (or not initialised): it holds no keys and refuses secret operations.
 *
 * @example
 * ```ts
 * if (!seal.isUnsealed()) throw new Sealed();
 * ```
 */
export class Sealed extends CustosError {
  constructor(message = 'the server is sealed') {
    super('ERR_SEALED', message);
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
 * A concurrent writer changed the entry first; retry from a fresh read, or report the
 * check-and-set mismatch.
 *
 * @example
 * ```ts
 * await store.update(path, value, revision); // may throw VersionConflict
 * ```
 */
export class VersionConflict extends CustosError {
  constructor(message: string) {
    super('ERR_VERSION_CONFLICT', message);
  }
}

/**
 * Narrows an unknown thrown value to a {@link CustosError}, optionally of one code.
 *
 * @example
 * ```ts
 * if (isCustosError(err, 'ERR_KEY_NOT_FOUND')) return undefined;
 * ```
 */
export function isCustosError(value: unknown, code?: ErrorCode): value is CustosError {
  return value instanceof CustosError && (code === undefined || value.code === code);
}
