import type { TokenRejectionCode } from '../tokens/errors.js';

/** Why a JWT was refused, as a metric label (from its `TokenRejected` code). */
export type JwtFailureReason =
  | 'invalid'
  | 'expired'
  | 'wrong_type'
  | 'key_not_found'
  | 'key_retired'
  | 'revoked'
  | 'reused'
  | 'jwks_unavailable';

/**
 * What was rotated: a keyring key (`Keyring.rotate`), the JWT keysets of a token service
 * (`updateKeys`), or a secret whose value a refresh found changed (`createSecrets`).
 */
export type RotationKind = 'keyring_key' | 'jwt_keys' | 'secret_value';

/**
 * Hooks the library calls where the things worth counting happen, so an application exports
 * them with its own metrics. Give one to `createTokenService`, `createFieldCipher`,
 * `createSecrets` and `new Keyring` (option `metrics`); without one nothing is counted and
 * nothing is spent. Hooks receive labels only: never a token, a key, a value or a row id.
 * Adapters: {@link prometheusMetrics} (prom-client) and {@link openTelemetryMetrics}.
 *
 * @example
 * ```ts
 * const hooks: MetricsHooks = {
 *   jwtVerificationFailed: (reason) => console.log('jwt refused', reason),
 *   fieldDecryptFailed: (table, column) => console.log('tampered?', table, column),
 *   secretCacheHit: () => {},
 *   secretCacheMiss: () => {},
 *   rotation: (kind) => console.log('rotated', kind),
 * };
 * ```
 */
export interface MetricsHooks {
  /** A JWT was refused (`verifyAccessToken`, `verifyRefreshToken`, `refresh`, JWKS). */
  jwtVerificationFailed(reason: JwtFailureReason): void;
  /** A field value failed authentication on decryption (a tamper or a copied value). */
  fieldDecryptFailed(table: string, column: string): void;
  /** A secret was served from the cache. */
  secretCacheHit(): void;
  /** A secret had to be read from its providers. */
  secretCacheMiss(): void;
  /** Something was rotated. */
  rotation(kind: RotationKind): void;
}

const REASONS: Readonly<Record<TokenRejectionCode, JwtFailureReason>> = {
  ERR_TOKEN_INVALID: 'invalid',
  ERR_TOKEN_EXPIRED: 'expired',
  ERR_TOKEN_WRONG_TYPE: 'wrong_type',
  ERR_TOKEN_KEY_NOT_FOUND: 'key_not_found',
  ERR_TOKEN_KEY_RETIRED: 'key_retired',
  ERR_TOKEN_REVOKED: 'revoked',
  ERR_TOKEN_REUSED: 'reused',
  ERR_JWKS_UNAVAILABLE: 'jwks_unavailable',
};

/** @internal the label of a `TokenRejected` code. */
export function jwtFailureReason(code: TokenRejectionCode): JwtFailureReason {
  return REASONS[code];
}
