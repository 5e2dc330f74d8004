import { CustosError, DecryptionFailed } from '../../errors/index.js';

/**
 * A custos error for a failed Key Vault call. Only the HTTP status and Key Vault's error code
 * reach the message: the service's message text is left out (it may quote the request), and
 * so is the error itself (its request object holds the bearer token).
 */
export function azureFailure(
  err: unknown,
  doing: string,
  operation: 'get' | 'wrapKey' | 'unwrapKey',
): CustosError {
  if (err instanceof CustosError) return err;
  const { name, statusCode, code, message } = (err ?? {}) as {
    name?: unknown;
    statusCode?: unknown;
    code?: unknown;
    message?: unknown;
  };
  // @azure/identity's credential failures: no token was obtained (a refused client secret
  // surfaces as AuthenticationRequiredError through MSAL).
  if (
    name === 'AuthenticationError' ||
    name === 'AuthenticationRequiredError' ||
    name === 'CredentialUnavailableError'
  ) {
    return new CustosError(
      'ERR_KMS_LOGIN_FAILED',
      `${doing}: no access token could be obtained for Key Vault (${String(name)})`,
    );
  }
  const status = typeof statusCode === 'number' ? statusCode : undefined;
  const serviceCode = typeof code === 'string' && /^[A-Za-z0-9_.]{1,64}$/.test(code) ? code : '';
  const said = `Key Vault ${operation}: ${status ?? 'no status'}${serviceCode === '' ? '' : ` ${serviceCode}`}`;
  switch (status) {
    case 401:
      return new CustosError(
        'ERR_KMS_LOGIN_FAILED',
        `${doing}: Key Vault refused the credentials (${said})`,
      );
    case 403:
      // Key Vault answers 403 "Operation … is not allowed on a disabled key" (inner code
      // KeyDisabled); the inner code is not kept on the client's error, the message is.
      if (typeof message === 'string' && /not allowed on a disabled key/i.test(message)) {
        return new CustosError(
          'ERR_KEY_DISABLED',
          `${doing}: the key version is disabled (${said})`,
        );
      }
      return new CustosError(
        'ERR_PERMISSION_DENIED',
        `${doing}: the credentials may not use this key (${said}; grant keys/get, keys/wrapKey, keys/unwrapKey, e.g. the Key Vault Crypto User role)`,
      );
    case 404:
      return new CustosError('ERR_KEY_NOT_FOUND', `${doing}: the key does not exist (${said})`);
    case 400:
      if (operation === 'unwrapKey') {
        return new DecryptionFailed(
          `decryption failed: ${doing}: Key Vault could not unwrap the key (${said})`,
        );
      }
  }
  return new CustosError('ERR_KMS_PROVIDER', `${doing}: the call failed (${said})`);
}
