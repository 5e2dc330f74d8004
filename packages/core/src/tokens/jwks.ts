import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWSHeaderParameters,
} from 'jose';
import { CustosError } from '../errors/index.js';
import { countRejections } from '../metrics/count-rejections.js';
import type { MetricsHooks } from '../metrics/hooks.js';
import { checkSeconds } from './duration.js';
import { TokenRejected } from './errors.js';
import { KID_PATTERN } from './keyset.js';
import { assertNotRevoked, type RevocationStore } from './revocation.js';
import { type TokenType, type VerifiedClaims, verifyToken } from './token-verify.js';

/** The asymmetric algorithms a JWKS can verify. */
export type JwksAlgorithm = 'ES256' | 'EdDSA' | 'RS256';

/** Options for {@link createJwksVerifier}. */
export interface JwksVerifierOptions {
  /**
   * The issuer's public keys: a JWK Set object, or its `https://` URL (fetched, cached and
   * refetched on an unknown `kid` by jose's `createRemoteJWKSet`; plain `http://` only to
   * loopback addresses).
   */
  readonly jwks: JSONWebKeySet | URL | string;
  readonly issuer: string | readonly string[];
  readonly audience: string | readonly string[];
  /** Default all three; HS256 is never accepted from a JWKS. */
  readonly algorithms?: readonly JwksAlgorithm[];
  /** Default 5 seconds. */
  readonly clockToleranceSeconds?: number;
  /** Checks `jti` and family revocation too when the issuer shares its store. */
  readonly revocations?: RevocationStore;
  /** Remote only: HTTP timeout (default 5 s), cache age (default 600 s), and the least time
   * between two refetches for unknown kids (default 30 s). */
  readonly timeoutSeconds?: number;
  readonly cacheMaxAgeSeconds?: number;
  readonly cooldownSeconds?: number;
  /** Counts refused tokens by reason (`@custos/core/metrics`); default none. */
  readonly metrics?: MetricsHooks;
}

/** Verifies tokens another service issued, against its JWKS. */
export interface JwksVerifier {
  /** Verifies a token of `type` (default `access`). */
  verify(token: string, type?: TokenType): Promise<VerifiedClaims>;
}

const JWKS_ALGORITHMS: readonly JwksAlgorithm[] = ['ES256', 'EdDSA', 'RS256'];
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Verifies tokens against a local or remote JWKS with the same pinned rules as the token
 * service: `kid` required, exactly one matching key, pinned algorithms, issuer, audience,
 * type and clock tolerance.
 *
 * @example
 * ```ts
 * const verifier = createJwksVerifier({
 *   jwks: 'https://auth.example.com/.well-known/jwks.json',
 *   issuer: 'https://auth.example.com',
 *   audience: 'billing-api',
 * });
 * const claims = await verifier.verify(bearerToken);
 * ```
 */
export function createJwksVerifier(options: JwksVerifierOptions): JwksVerifier {
  const algorithms = options.algorithms ?? JWKS_ALGORITHMS;
  if (algorithms.length === 0 || algorithms.some((a) => !JWKS_ALGORITHMS.includes(a))) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'algorithms must be among ES256, EdDSA, RS256');
  }
  const remote = typeof options.jwks === 'string' || options.jwks instanceof URL;
  const keySet = remote
    ? createRemoteJWKSet(jwksUrl(options.jwks as string | URL), {
        timeoutDuration:
          checkSeconds(options.timeoutSeconds ?? 5, 'timeoutSeconds', { min: 1 }) * 1000,
        cacheMaxAge: checkSeconds(options.cacheMaxAgeSeconds ?? 600, 'cacheMaxAgeSeconds') * 1000,
        cooldownDuration: checkSeconds(options.cooldownSeconds ?? 30, 'cooldownSeconds') * 1000,
      })
    : localKeySet(options.jwks as JSONWebKeySet);
  const tolerance = checkSeconds(options.clockToleranceSeconds ?? 5, 'clockToleranceSeconds');

  const selectKey = async (header: JWSHeaderParameters) => {
    if (typeof header.kid !== 'string' || !KID_PATTERN.test(header.kid)) {
      throw new TokenRejected('ERR_TOKEN_KEY_NOT_FOUND', 'the token has no valid kid');
    }
    try {
      return await keySet(header);
    } catch (err) {
      if (
        err instanceof errors.JWKSNoMatchingKey ||
        err instanceof errors.JWKSMultipleMatchingKeys
      ) {
        throw new TokenRejected(
          'ERR_TOKEN_KEY_NOT_FOUND',
          `no single key "${header.kid}" in the JWKS`,
        );
      }
      if (remote) {
        throw new TokenRejected('ERR_JWKS_UNAVAILABLE', 'the remote JWKS could not be fetched');
      }
      throw err;
    }
  };

  return {
    verify: (token, type = 'access') =>
      countRejections(options.metrics, async () => {
        const claims = await verifyToken(token, selectKey, {
          type,
          algorithms,
          issuer: options.issuer,
          audience: options.audience,
          clockToleranceSeconds: tolerance,
          now: new Date(),
        });
        await assertNotRevoked(options.revocations, claims, type);
        return claims;
      }),
  };
}

function jwksUrl(input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'jwks must be a JWK Set or a URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'a remote JWKS must be fetched over https (http only from localhost)',
    );
  }
  return url;
}

function localKeySet(jwks: JSONWebKeySet): ReturnType<typeof createLocalJWKSet> {
  try {
    return createLocalJWKSet(jwks);
  } catch {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'jwks is not a valid JWK Set ({ "keys": [...] })',
    );
  }
}
