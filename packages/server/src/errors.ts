/**
 * The server's error table: codes only the server throws (initialisation and unseal, storage
 * integrity and concurrent writes, audit, configuration, request size), on top of the library's
 * (`@custos/core/errors`). Both are `CustosError`s, so `isCustosError`, the audit log and the one
 * HTTP mapping (`http/error-mapping.ts`) see every error alike; a client reads a server code as
 * an HTTP status, which it reports with a library code (503 is `ERR_SEALED`).
 *
 * `docs/errors.md` lists these codes in its server section (`errors-doc.test.ts` keeps the two
 * in step). Codes are never reused or renamed; a code that moves between the tables keeps its
 * string.
 */
import { CustosError, type ErrorCode } from '@custos/core/errors';

/**
 * The server's own error codes, each with the one-line meaning documented in `docs/errors.md`.
 *
 * @example
 * ```ts
 * serverErrorCodes.ERR_STORAGE_INTEGRITY; // "A stored entry failed its barrier integrity check: …"
 * ```
 */
export const serverErrorCodes = {
  ERR_NOT_INITIALIZED: 'The server has not been initialised yet (sys/init).',
  ERR_ALREADY_INITIALIZED: 'The server is already initialised; init runs once.',
  ERR_UNSEAL_FAILED: 'The unseal key shares given do not reproduce the root key.',
  ERR_SEAL_UNAVAILABLE:
    'The auto-unseal seal (transit server, HSM, cloud KMS key) could not wrap or unwrap the root key: the server stays sealed and retries.',
  ERR_VERSION_CONFLICT:
    'Another writer changed the entry first (check-and-set or revision mismatch).',
  ERR_PAYLOAD_TOO_LARGE: 'The request body exceeds the configured size limit.',
  ERR_AUDIT_UNAVAILABLE: 'No audit sink recorded the request in time, so the request was refused.',
  ERR_AUDIT_CHAIN_BROKEN:
    'An audit file does not hold the chain the server recorded (emptied, cut, replaced or removed while it was not writing): the server refuses to write to it until an operator starts a new file.',
  ERR_AUDIT_SINK_NAME_CLASH:
    'Another node writes an audit sink of the same name to another destination: one hash chain cannot be written by two nodes, so this node refuses the sink.',
  ERR_AUDIT_NOT_READABLE:
    'The audit device cannot be read back by the server (stdout, http or syslog, or its file is not a regular file): its entries and chain are read where they are delivered.',
  ERR_AUDIT_FILE_TOO_LARGE:
    'The audit file is larger than the server verifies live (16 MiB): the chain is verified with `custos audit verify` where the file is.',
  ERR_INVALID_CONFIG: 'The server configuration is invalid.',
  ERR_AWS_REFUSED:
    'A Secrets Manager or KMS API request was refused; its AWS error type (`__type`) says why.',
  ERR_STORAGE_INTEGRITY:
    'A stored entry failed its barrier integrity check: it was changed, moved to another path or damaged in storage.',
  ERR_STORAGE_UNAVAILABLE:
    'Storage (PostgreSQL) did not answer: it is down, restarting or unreachable, or a query ran out of time. Nothing of the request was acknowledged.',
  ERR_ROTATION_IN_PROGRESS:
    'A rotation of this secret is already running (on this node or another), or its background work has not finished; it must end first. Also the answer of a node whose run another node took over after its lease ran out.',
  ERR_APPROVAL_REFUSED:
    'A rotation approval was refused: the approver is the requester (or acts for them), approved it already, has no identity, or the request expired or ended.',
  ERR_COMPLIANCE_EVIDENCE:
    "The compliance report could not read a piece of its evidence through the server's own API (the route named failed): no report is judged on part of the evidence.",
} as const;

/**
 * A code of the server's own table.
 *
 * @example
 * ```ts
 * const code: ServerErrorCode = 'ERR_AUDIT_UNAVAILABLE';
 * ```
 */
export type ServerErrorCode = keyof typeof serverErrorCodes;

/**
 * Any code a server error carries: the library's (the server throws those too) or its own.
 *
 * @example
 * ```ts
 * const status: Partial<Record<AnyErrorCode, number>> = { ERR_SEALED: 503, ERR_STORAGE_INTEGRITY: 500 };
 * ```
 */
export type AnyErrorCode = ErrorCode | ServerErrorCode;

/**
 * An error with a code of the server's table. The message names what is wrong and never
 * carries a secret value.
 *
 * @example
 * ```ts
 * throw new ServerError('ERR_INVALID_CONFIG', 'config: listen must be host:port');
 * ```
 */
export class ServerError extends CustosError<ServerErrorCode> {}

/**
 * The server is sealed: it holds no keys and refuses secret operations. Its code is the
 * library's, because a client reports a sealed server (HTTP 503) with the same code.
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
 * A concurrent writer changed the entry first; retry from a fresh read, or report the
 * check-and-set mismatch.
 *
 * @example
 * ```ts
 * await store.update(path, value, revision); // may throw VersionConflict
 * ```
 */
export class VersionConflict extends ServerError {
  /** The storage entry that conflicted, for the server log only (never the client's answer). */
  readonly path: string | undefined;

  constructor(message: string, options: { path?: string } = {}) {
    super('ERR_VERSION_CONFLICT', message);
    this.path = options.path;
  }
}

/**
 * Narrows an unknown thrown value to a `CustosError` of either table, optionally of one code.
 *
 * @example
 * ```ts
 * if (isServerError(err, 'ERR_VERSION_CONFLICT')) return retry();
 * ```
 */
export function isServerError(
  value: unknown,
  code?: AnyErrorCode,
): value is CustosError<AnyErrorCode> {
  return value instanceof CustosError && (code === undefined || value.code === code);
}
