import { CustosError } from '../errors/index.js';

/** Why an API key was refused; stable codes, see `docs/errors.md`. */
export type ApiKeyRejectionCode =
  | 'ERR_API_KEY_MALFORMED'
  | 'ERR_API_KEY_CHECKSUM'
  | 'ERR_API_KEY_PREFIX'
  | 'ERR_API_KEY_UNKNOWN'
  | 'ERR_API_KEY_EXPIRED'
  | 'ERR_API_KEY_REVOKED'
  | 'ERR_API_KEY_SCOPE';

/**
 * An API key was refused; `code` says why, each reason its own code. An HTTP layer answers
 * 401 (403 for `ERR_API_KEY_SCOPE`). Messages never contain the key.
 *
 * @example
 * ```ts
 * try {
 *   const presented = request.headers['x-api-key']; // Fastify: string | string[] | undefined
 *   const record = await apiKeys.verifyApiKey(typeof presented === 'string' ? presented : '');
 * } catch (err) {
 *   if (err instanceof ApiKeyRejected) return reply.code(err.code === 'ERR_API_KEY_SCOPE' ? 403 : 401).send();
 *   throw err;
 * }
 * ```
 */
export class ApiKeyRejected extends CustosError {
  declare readonly code: ApiKeyRejectionCode;

  constructor(code: ApiKeyRejectionCode, message: string) {
    super(code, message);
  }
}
