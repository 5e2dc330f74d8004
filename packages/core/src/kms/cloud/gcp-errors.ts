import { CustosError, DecryptionFailed } from '../../errors/index.js';

// gRPC status codes, as google-gax sets them on its errors (REST errors are mapped to them).
const STATUS_NAMES: Record<number, string> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  15: 'DATA_LOSS',
  16: 'UNAUTHENTICATED',
};

/**
 * A custos error for a failed Cloud KMS call. Only the gRPC status name reaches the message:
 * Google's message text is left out (it may quote request fields), and so is the error itself
 * (its request holds the bearer token).
 */
export function gcpFailure(
  err: unknown,
  doing: string,
  method: 'encrypt' | 'decrypt',
): CustosError {
  if (err instanceof CustosError) return err;
  const status = statusOf(err);
  const said = `Cloud KMS ${method}: ${status ?? 'no status'}`;
  switch (status) {
    case 'UNAUTHENTICATED':
      return new CustosError(
        'ERR_KMS_LOGIN_FAILED',
        `${doing}: Google refused the credentials (${said})`,
      );
    case 'PERMISSION_DENIED':
      return new CustosError(
        'ERR_PERMISSION_DENIED',
        `${doing}: the credentials may not use this key (${said}; grant roles/cloudkms.cryptoKeyEncrypterDecrypter)`,
      );
    case 'NOT_FOUND':
      return new CustosError('ERR_KEY_NOT_FOUND', `${doing}: the key does not exist (${said})`);
    case 'FAILED_PRECONDITION':
      return new CustosError(
        'ERR_KEY_DISABLED',
        `${doing}: the key version is not enabled (disabled, destroyed or scheduled for destruction) (${said})`,
      );
    case 'INVALID_ARGUMENT':
      if (method === 'decrypt') {
        return new DecryptionFailed(
          `decryption failed: ${doing}: the data key does not unwrap for this tenant (${said})`,
        );
      }
      break;
    case undefined:
      if (isCredentialFailure(err)) {
        return new CustosError(
          'ERR_KMS_LOGIN_FAILED',
          `${doing}: no access token could be obtained for Cloud KMS (check GOOGLE_APPLICATION_CREDENTIALS or the metadata server)`,
        );
      }
  }
  return new CustosError('ERR_KMS_PROVIDER', `${doing}: the call failed (${said})`);
}

const KNOWN = new Set(Object.values(STATUS_NAMES));
const HTTP_FALLBACK: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/**
 * The gRPC status name of a failure. google-gax's own errors carry the gRPC code; over REST,
 * the auth client's transport (gaxios) rejects a non-2xx answer first, with the HTTP status and
 * Google's JSON error (`{"error":{"status":"FAILED_PRECONDITION",…}}`) as its message. Several
 * statuses share HTTP 400, so the JSON's status name decides; only a known name is taken.
 */
function statusOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, status, response, message } = err as {
    code?: unknown;
    status?: unknown;
    response?: unknown;
    message?: unknown;
  };
  const http = typeof status === 'number' ? status : undefined;
  if (response === undefined && http === undefined && typeof code === 'number') {
    return STATUS_NAMES[code];
  }
  if (typeof message === 'string') {
    try {
      const named = (JSON.parse(message) as { error?: { status?: unknown } }).error?.status;
      if (typeof named === 'string' && KNOWN.has(named)) return named;
    } catch {
      // Not Google's JSON error: fall back to the HTTP status.
    }
  }
  return http === undefined ? undefined : HTTP_FALLBACK[http];
}

/** google-auth-library's failures to find or exchange credentials carry no gRPC status. */
function isCredentialFailure(err: unknown): boolean {
  const message = err instanceof Error ? err.message : '';
  return /credential|access token|invalid_grant|unauthorized_client/i.test(message);
}
