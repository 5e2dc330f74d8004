import type { CryptoKey, JWSHeaderParameters } from 'jose';
import { TokenRejected } from './errors.js';
import { isRetired, JwtKeyset, KID_PATTERN } from './keyset.js';

/**
 * Picks the one key that may verify a token, from its protected header, before any signature
 * check. The rules, in order:
 * - `kid` must be a string of the custos key-id form (anything else, including an injection
 *   attempt, is refused without being looked up);
 * - exactly one key in the keyset has that `kid` (none: unknown or removed; several: refused);
 * - the header's `alg` must be that key's algorithm (this is what stops algorithm confusion,
 *   e.g. an HS256 token "signed" with an RSA public key);
 * - a previous key must still be inside its grace window at `now`.
 */
export function selectVerifyKey(
  keyset: JwtKeyset,
  header: JWSHeaderParameters,
  now: Date,
): CryptoKey {
  const kid = header.kid;
  if (kid === undefined) {
    throw new TokenRejected('ERR_TOKEN_KEY_NOT_FOUND', 'the token has no kid');
  }
  if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) {
    throw new TokenRejected('ERR_TOKEN_KEY_NOT_FOUND', 'the token kid is not a valid key id');
  }
  const matches = JwtKeyset.internals.entries(keyset).filter((e) => e.info.kid === kid);
  if (matches.length !== 1) {
    throw new TokenRejected(
      'ERR_TOKEN_KEY_NOT_FOUND',
      matches.length === 0
        ? `no key "${kid}" in the keyset (unknown, or removed)`
        : `several keys have kid "${kid}"`,
    );
  }
  const { info, material } = matches[0] as (typeof matches)[number];
  if (header.alg !== info.algorithm) {
    throw new TokenRejected(
      'ERR_TOKEN_INVALID',
      `the token algorithm does not match key "${kid}" (${info.algorithm})`,
    );
  }
  if (isRetired(info, now)) {
    throw new TokenRejected(
      'ERR_TOKEN_KEY_RETIRED',
      `key "${kid}" stopped verifying at ${info.verifyUntil} (end of its grace window)`,
    );
  }
  return material.verifyKey;
}
