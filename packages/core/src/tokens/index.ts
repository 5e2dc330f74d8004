/**
 * JWTs on `jose`, done properly: keysets with `kid` (HS256, ES256, EdDSA, RS256), a current
 * signing key and previous keys verifying until their grace window ends, access and refresh
 * tokens told apart by `typ`, `jti` revocation (memory, Redis, SQL), refresh rotation with
 * reuse detection, JWKS publishing and verification, and a compatibility mode over
 * `JWT_SECRET` / `JWT_SECRET_PREVIOUS` / `JWT_REFRESH_SECRET(_PREVIOUS)`. See `docs/tokens.md`.
 *
 * @example
 * ```ts
 * import { createTokenService, readJwtKeysetFile, createMemoryRevocationStore } from '@custos/core/tokens';
 * const tokens = createTokenService({
 *   keys: await readJwtKeysetFile('jwt-keys.json'),
 *   issuer: 'https://api.example.com',
 *   audience: 'example-api',
 *   revocations: createMemoryRevocationStore(),
 * });
 * ```
 * @module
 */

export { parseDurationSeconds } from '../lib/duration.js';
export { isJwtAlgorithm, JWT_ALGORITHMS, type JwtAlgorithm } from './algorithms.js';
export {
  type CompatKeysetsOptions,
  createCompatKeysets,
  type SecretSource,
  type SecretValue,
} from './compat.js';
export { TokenRejected, type TokenRejectionCode } from './errors.js';
export {
  createJwksVerifier,
  type JwksAlgorithm,
  type JwksVerifier,
  type JwksVerifierOptions,
} from './jwks.js';
export {
  type JwtKeyInfo,
  type JwtKeyStatus,
  JwtKeyset,
  KID_PATTERN,
  type RotateKeysetOptions,
} from './keyset.js';
export {
  type ReadJwtKeysetFileOptions,
  readJwtKeysetFile,
  type WriteJwtKeysetFileOptions,
  writeJwtKeysetFile,
} from './keyset-file.js';
export { type JwtKeysetJson, loadJwtKeyset, serializeJwtKeyset } from './keyset-json.js';
export {
  createMemoryRevocationStore,
  type MemoryRevocationStore,
  type RevocationStore,
} from './revocation.js';
export {
  createRedisRevocationStore,
  type RedisClientLike,
  type RedisRevocationStoreOptions,
} from './revocation-redis.js';
export {
  createSqlRevocationStore,
  type SqlRevocationStore,
  type SqlRevocationStoreOptions,
} from './revocation-sql.js';
export {
  type CustomClaims,
  createTokenService,
  type IssuedToken,
  type IssueOptions,
  type TokenKeys,
  type TokenPair,
  type TokenService,
  type TokenServiceOptions,
} from './token-service.js';
export { TOKEN_TYP, type TokenType, type VerifiedClaims } from './token-verify.js';
