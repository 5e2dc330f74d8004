import { CustosError } from '../errors/index.js';

/** Why a token was refused; stable codes, see `docs/errors.md`. */
export type TokenRejectionCode =
  | 'ERR_TOKEN_INVALID'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_WRONG_TYPE'
  | 'ERR_TOKEN_KEY_NOT_FOUND'
  | 'ERR_TOKEN_KEY_RETIRED'
  | 'ERR_TOKEN_REVOKED'
  | 'ERR_TOKEN_REUSED'
  | 'ERR_JWKS_UNAVAILABLE';

/**
 * A token was refused. `code` says why, so `switch (err.code)` narrows; an HTTP layer maps
 * every one of them to 401. Messages never contain the token.
 *
 * @example
 * ```ts
 * try {
 *   claims = await tokens.verifyAccessToken(bearer);
 * } catch (err) {
 *   if (err instanceof TokenRejected) return reply.code(401).send();
 *   throw err;
 * }
 * ```
 */
export class TokenRejected extends CustosError {
  declare readonly code: TokenRejectionCode;

  constructor(code: TokenRejectionCode, message: string) {
    super(code, message);
  }
}
