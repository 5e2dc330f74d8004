import { CustosError, DecryptionFailed } from '../../errors/index.js';

/** The KMS operations the provider calls. */
export type AwsKmsOperation =
  | 'GenerateDataKey'
  | 'Decrypt'
  | 'Encrypt'
  | 'DescribeKey'
  | 'EnableKeyRotation'
  | 'GetKeyRotationStatus';

const LOGIN_FAILURES = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'CredentialsProviderError',
]);

/**
 * A custos error for a failed AWS KMS call. Only the exception's name and HTTP status reach the
 * message: AWS's message text is left out (it may quote the request), and so is the SDK's error
 * itself (its `$response` and the request it belongs to are not for logs).
 */
export function awsFailure(err: unknown, doing: string, operation: AwsKmsOperation): CustosError {
  if (err instanceof CustosError) return err;
  const { name, $metadata } = (err ?? {}) as { name?: unknown; $metadata?: unknown };
  const exception = typeof name === 'string' && /^[A-Za-z0-9_.]{1,64}$/.test(name) ? name : 'Error';
  const status = ($metadata as { httpStatusCode?: unknown } | undefined)?.httpStatusCode;
  const said = `KMS ${operation}: ${exception}${typeof status === 'number' ? ` (HTTP ${status})` : ''}`;
  if (LOGIN_FAILURES.has(exception)) {
    return new CustosError(
      'ERR_KMS_LOGIN_FAILED',
      `${doing}: AWS refused the credentials, or none were found (${said})`,
    );
  }
  switch (exception) {
    case 'AccessDeniedException':
      return new CustosError(
        'ERR_PERMISSION_DENIED',
        `${doing}: the credentials may not use this key (${said}; grant kms:${operation} on the key)`,
      );
    case 'NotFoundException':
      return new CustosError('ERR_KEY_NOT_FOUND', `${doing}: the key does not exist (${said})`);
    case 'DisabledException':
    case 'KMSInvalidStateException':
      return new CustosError(
        'ERR_KEY_DISABLED',
        `${doing}: the key is disabled or pending deletion (${said})`,
      );
    case 'InvalidCiphertextException':
    case 'IncorrectKeyException':
      if (operation === 'Decrypt') {
        return new DecryptionFailed(
          `decryption failed: ${doing}: the data key does not unwrap in this context (${said})`,
        );
      }
  }
  return new CustosError('ERR_KMS_PROVIDER', `${doing}: the call failed (${said})`);
}
