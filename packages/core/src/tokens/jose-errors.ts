import { errors } from 'jose';
import { TokenRejected } from './errors.js';

/**
 * Turns whatever `jose` threw while verifying into a {@link TokenRejected} with a stable code
 * and a message of our own (jose's errors can carry the claims; ours carry neither claims nor
 * the token). Errors that are not about the token are rethrown unchanged.
 */
export function toTokenRejected(err: unknown): TokenRejected {
  if (err instanceof TokenRejected) return err;
  if (err instanceof errors.JWTExpired) {
    return new TokenRejected('ERR_TOKEN_EXPIRED', 'the token has expired');
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    return new TokenRejected(
      'ERR_TOKEN_INVALID',
      `the token's "${err.claim}" ${err.claim === 'typ' ? 'header' : 'claim'} is ${describeReason(err.reason)}`,
    );
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenRejected('ERR_TOKEN_INVALID', 'the token signature does not verify');
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return new TokenRejected('ERR_TOKEN_INVALID', 'the token algorithm is not allowed');
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return new TokenRejected('ERR_TOKEN_KEY_NOT_FOUND', 'no single JWKS key matches the token');
  }
  if (err instanceof errors.JOSEError) {
    return new TokenRejected('ERR_TOKEN_INVALID', 'the token is malformed');
  }
  if (err instanceof TypeError) {
    // jose reports a key unusable for the header's algorithm as a TypeError.
    return new TokenRejected('ERR_TOKEN_INVALID', 'the token does not fit the selected key');
  }
  throw err;
}

function describeReason(reason: string): string {
  switch (reason) {
    case 'missing':
      return 'missing';
    case 'invalid':
      return 'not of the right type';
    default:
      return 'not the expected value';
  }
}
