import type { CustosError } from '@custos/core/errors';
import { type AnyErrorCode, isServerError, VersionConflict } from '../errors.js';
import { STORAGE_CONFLICT as STORAGE_CONFLICT_MESSAGE } from '../storage/entry-store.js';
import { isStorageUnavailable, storageUnavailable } from '../storage/storage-unavailable.js';

/** An HTTP status and Vault-shaped body for an error. */
export interface HttpError {
  readonly status: number;
  readonly body: Record<string, unknown>;
  /** What only the server log may hold (a storage path), when there is something. */
  readonly logDetail?: Record<string, unknown>;
}

/** HTTP status per error code: the only place that decides it. Unlisted codes are 400. */
const STATUS: Partial<Record<AnyErrorCode, number>> = {
  ERR_SEALED: 503,
  ERR_NOT_INITIALIZED: 503,
  ERR_PERMISSION_DENIED: 403,
  ERR_NOT_FOUND: 404,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_AUDIT_UNAVAILABLE: 500,
  ERR_AUDIT_CHAIN_BROKEN: 500,
  // The live chain check reads at most DEFAULT_VERIFY_MAX_BYTES (audit/audit-readback.ts).
  ERR_AUDIT_FILE_TOO_LARGE: 413,
  // Two nodes configured one sink name for two destinations: a deployment fault.
  ERR_AUDIT_SINK_NAME_CLASH: 500,
  // Storage does not hold what the barrier wrote: the server's fault, never the request's.
  ERR_STORAGE_INTEGRITY: 500,
  ERR_KEY_NOT_FOUND: 400,
  ERR_ROTATION_IN_PROGRESS: 409,
  ERR_APPROVAL_REFUSED: 403,
  ERR_COMPLIANCE_EVIDENCE: 500,
  // The transit server or HSM of the auto-unseal seal is out of reach: the server stays sealed.
  ERR_SEAL_UNAVAILABLE: 503,
  // PostgreSQL down, restarting or too slow: the client may retry (on another node too).
  ERR_STORAGE_UNAVAILABLE: 503,
};

/** Vault's wording for errors that clients match on. */
const MESSAGE: Partial<Record<AnyErrorCode, string>> = {
  ERR_SEALED: 'Vault is sealed',
  ERR_NOT_INITIALIZED: 'Vault is not initialized',
  ERR_ALREADY_INITIALIZED: 'Vault is already initialized',
  ERR_PERMISSION_DENIED: 'permission denied',
  // The storage path stays in the server log: it can name a token's or key's entry.
  ERR_STORAGE_INTEGRITY:
    'storage integrity check failed: a stored entry was changed, moved or damaged (see the server log)',
};

/**
 * Vault's answer to a path no route serves (404): its router's `unsupported path`, in the
 * multi-error form Vault's request handling wraps it in.
 */
export const UNSUPPORTED_PATH_BODY = {
  errors: ['1 error occurred:\n\t* unsupported path\n\n'],
} as const;

/** Errors that carry a response body beyond their message (KV's 404 with metadata). */
export class HttpResponseError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(`HTTP ${status}`);
  }
}

/** Fastify's own error codes for bad input, mapped to client errors. */
const FASTIFY_CLIENT_ERRORS: Record<string, { status: number; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, message: 'request body too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, message: 'unsupported content type' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, message: 'empty JSON body' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, message: 'invalid content length' },
  FST_ERR_BAD_URL: { status: 400, message: 'malformed URL' },
};

/**
 * Maps any thrown value to an HTTP status and body. Unexpected errors become a 500 that says
 * nothing about their cause (the server log has it, keyed by request id).
 */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpResponseError) return { status: err.status, body: err.body };
  if (isServerError(err)) return fromCustosError(err);
  const code = (err as { code?: string }).code;
  if (code !== undefined && code in FASTIFY_CLIENT_ERRORS) {
    const { status, message } = FASTIFY_CLIENT_ERRORS[code] as { status: number; message: string };
    return { status, body: { errors: [message] } };
  }
  // A driver error of unreachable storage: 503 with a fixed message, never a 500 with its text.
  if (isStorageUnavailable(err))
    return {
      ...fromCustosError(storageUnavailable()),
      logDetail: { code: 'ERR_STORAGE_UNAVAILABLE', reason: (err as Error).message },
    };
  const status = (err as { statusCode?: number }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify validation and parse errors: their messages describe the input, never secrets.
    return { status, body: { errors: [(err as Error).message] } };
  }
  return { status: 500, body: { errors: ['internal error'] } };
}

function fromCustosError(err: CustosError<AnyErrorCode>): HttpError {
  if (err.code === 'ERR_NOT_FOUND') return { status: 404, body: { errors: [] } };
  // A storage conflict names its entry for the log; the client gets the fixed message only.
  if (err instanceof VersionConflict && err.path !== undefined)
    return {
      status: STATUS[err.code] ?? 400,
      body: { errors: [STORAGE_CONFLICT_MESSAGE] },
      logDetail: { code: err.code, path: err.path },
    };
  return {
    status: STATUS[err.code] ?? 400,
    body: { errors: [MESSAGE[err.code] ?? err.message] },
  };
}
