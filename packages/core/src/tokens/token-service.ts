import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, SignJWT } from 'jose';
import { CustosError } from '../errors/index.js';
import { countRejections } from '../metrics/count-rejections.js';
import type { MetricsHooks } from '../metrics/hooks.js';
import { checkSeconds } from './duration.js';
import { TokenRejected } from './errors.js';
import { selectVerifyKey } from './key-selection.js';
import { JwtKeyset } from './keyset.js';
import { assertNotRevoked, type RevocationStore } from './revocation.js';
import { TOKEN_TYP, type TokenType, type VerifiedClaims, verifyToken } from './token-verify.js';

/** Application claims added to a token (`role`, `tenant`, …). Registered names are refused. */
export type CustomClaims = Readonly<Record<string, unknown>>;

/** Options for {@link createTokenService}. */
export interface TokenServiceOptions {
  /** One keyset for both types, or one each (as with `JWT_SECRET` / `JWT_REFRESH_SECRET`). */
  readonly keys: JwtKeyset | TokenKeys;
  /** `iss` of every token issued, and the only one accepted. */
  readonly issuer: string;
  /** `aud` of every token issued; a token is accepted when it names one of these. */
  readonly audience: string | readonly string[];
  /** Default 900 (15 minutes). */
  readonly accessTtlSeconds?: number;
  /** Default 604800 (7 days). */
  readonly refreshTtlSeconds?: number;
  /** Allowed clock skew between issuer and verifier; default 5 seconds. */
  readonly clockToleranceSeconds?: number;
  /**
   * Where revocations and used refresh tokens are recorded. Without one, tokens cannot be
   * revoked and `refresh` refuses to run (reuse detection needs it).
   */
  readonly revocations?: RevocationStore;
  /**
   * Counts refused tokens by reason, and key updates as rotations (`@custos/core/metrics`);
   * default none.
   */
  readonly metrics?: MetricsHooks;
}

/** Separate keysets for access and refresh tokens. */
export interface TokenKeys {
  readonly access: JwtKeyset;
  readonly refresh: JwtKeyset;
}

/** A signed token as issued. The token is a bearer credential: never log it. */
export interface IssuedToken {
  readonly token: string;
  readonly jti: string;
  readonly expiresAt: Date;
}

/** An access token and its refresh token, of one refresh family (one login session). */
export interface TokenPair {
  readonly accessToken: string;
  readonly accessExpiresAt: Date;
  readonly refreshToken: string;
  readonly refreshExpiresAt: Date;
  readonly familyId: string;
}

/** Who a token is for, and what else it says. */
export interface IssueOptions {
  readonly subject: string;
  readonly claims?: CustomClaims;
}

/** Issues, verifies, refreshes and revokes tokens; see {@link createTokenService}. */
export interface TokenService {
  /** A lone access token (no refresh family), e.g. for a service account. */
  signAccessToken(options: IssueOptions & { ttlSeconds?: number }): Promise<IssuedToken>;
  /** A new login session: an access token and a refresh token of a new family. */
  issueTokenPair(options: IssueOptions): Promise<TokenPair>;
  /** Verifies an access token (refusing refresh tokens) and checks revocation. */
  verifyAccessToken(token: string): Promise<VerifiedClaims>;
  /**
   * Verifies a refresh token and checks revocation, without using it up. A refresh token that
   * was already used is reuse, as in `refresh`: its family is revoked (`ERR_TOKEN_REUSED`).
   */
  verifyRefreshToken(token: string): Promise<VerifiedClaims & { fam: string }>;
  /**
   * Uses up a refresh token and returns a new pair of the same family. A refresh token
   * presented a second time revokes the whole family (`ERR_TOKEN_REUSED`). The new tokens
   * carry the old refresh token's custom claims unless `claims` replaces them.
   */
  refresh(refreshToken: string, options?: { claims?: CustomClaims }): Promise<TokenPair>;
  /** Revokes one token: an access token by its `jti`, a refresh token with its whole family. */
  revokeToken(token: string): Promise<void>;
  /** Revokes every token of a refresh family (log out a session everywhere). */
  revokeFamily(familyId: string): Promise<void>;
  /** Swaps the keysets in place, e.g. after reloading a rotated keyset file. */
  updateKeys(keys: JwtKeyset | TokenKeys): void;
}

const REGISTERED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'fam']);

/**
 * Creates a token service over a keyset: access tokens (`typ: at+jwt`, 15 minutes by default)
 * and refresh tokens (`typ: refresh+jwt`, 7 days) signed by the current key with its `kid`,
 * each with a random `jti`; verification picks the key by `kid` and pins the algorithm, issuer,
 * audience and clock tolerance; refresh rotation with reuse detection; revocation by `jti` and
 * by family.
 *
 * @example
 * ```ts
 * const tokens = createTokenService({
 *   keys: await readJwtKeysetFile('jwt-keys.json'),
 *   issuer: 'https://api.example.com',
 *   audience: 'example-api',
 *   revocations: createRedisRevocationStore({ redis }),
 * });
 * const pair = await tokens.issueTokenPair({ subject: user.id, claims: { role: 'nurse' } });
 * const claims = await tokens.verifyAccessToken(pair.accessToken); // claims.sub === user.id
 * const next = await tokens.refresh(pair.refreshToken); // the old refresh token is now used up
 * ```
 */
export function createTokenService(options: TokenServiceOptions): TokenService {
  const issuer = nonEmpty(options.issuer, 'issuer');
  const audience =
    typeof options.audience === 'string'
      ? nonEmpty(options.audience, 'audience')
      : options.audience.map((a) => nonEmpty(a, 'audience'));
  const accessTtl = checkSeconds(options.accessTtlSeconds ?? 900, 'accessTtlSeconds', { min: 1 });
  const refreshTtl = checkSeconds(options.refreshTtlSeconds ?? 604_800, 'refreshTtlSeconds', {
    min: 1,
  });
  const tolerance = checkSeconds(options.clockToleranceSeconds ?? 5, 'clockToleranceSeconds');
  const store = options.revocations;
  const { metrics } = options;
  let keys = toTokenKeys(options.keys);

  // An entry must outlive every token it concerns, including the clock tolerance.
  const until = (expSeconds: number) => new Date((expSeconds + tolerance) * 1000);
  const familyUntil = () => new Date(Date.now() + (refreshTtl + tolerance) * 1000);

  const requireStore = (operation: string): RevocationStore => {
    if (store === undefined) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `${operation} needs a revocation store: pass \`revocations\` to createTokenService`,
      );
    }
    return store;
  };

  async function sign(
    type: TokenType,
    subject: string,
    claims: CustomClaims,
    ttlSeconds: number,
    familyId: string | undefined,
  ): Promise<IssuedToken> {
    const { info, material } = JwtKeyset.internals.current(keys[type]);
    const issuedAt = Math.floor(Date.now() / 1000);
    const jti = randomUUID();
    const token = await new SignJWT({ ...claims, ...(familyId ? { fam: familyId } : {}) })
      .setProtectedHeader({ alg: info.algorithm, kid: info.kid, typ: TOKEN_TYP[type] })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(subject)
      .setJti(jti)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ttlSeconds)
      .sign(material.signingKey);
    return { token, jti, expiresAt: new Date((issuedAt + ttlSeconds) * 1000) };
  }

  async function issuePair(subject: string, claims: CustomClaims, familyId: string) {
    const [access, refresh] = await Promise.all([
      sign('access', subject, claims, accessTtl, familyId),
      sign('refresh', subject, claims, refreshTtl, familyId),
    ]);
    return {
      accessToken: access.token,
      accessExpiresAt: access.expiresAt,
      refreshToken: refresh.token,
      refreshExpiresAt: refresh.expiresAt,
      familyId,
    };
  }

  async function verify(type: TokenType, token: string): Promise<VerifiedClaims> {
    const keyset = keys[type];
    const now = new Date();
    const claims = await verifyToken(token, (header) => selectVerifyKey(keyset, header, now), {
      type,
      algorithms: keyset.algorithms,
      issuer,
      audience,
      clockToleranceSeconds: tolerance,
      now,
    });
    await assertNotRevoked(store, claims, type);
    return claims;
  }

  /** A used refresh token shown again: someone holds a copy. Log the whole session out. */
  async function rejectReuse(revocations: RevocationStore, familyId: string): Promise<never> {
    await revocations.add(`fam:${familyId}`, familyUntil());
    throw new TokenRejected(
      'ERR_TOKEN_REUSED',
      'the refresh token was already used; its whole family is now revoked',
    );
  }

  async function verifyRefresh(token: string) {
    const claims = await verify('refresh', token);
    if (typeof claims.fam !== 'string') {
      throw new TokenRejected('ERR_TOKEN_INVALID', 'the refresh token has no family');
    }
    // Used up is as dead as revoked, and seeing it again is reuse, whichever method sees it.
    if (store !== undefined && (await store.hasAny([`used:${claims.jti}`]))) {
      await rejectReuse(store, claims.fam);
    }
    return claims as VerifiedClaims & { fam: string };
  }

  return {
    async signAccessToken({ subject, claims = {}, ttlSeconds = accessTtl }) {
      checkSeconds(ttlSeconds, 'ttlSeconds', { min: 1 });
      return sign(
        'access',
        nonEmpty(subject, 'subject'),
        checkClaims(claims),
        ttlSeconds,
        undefined,
      );
    },
    async issueTokenPair({ subject, claims = {} }) {
      return issuePair(nonEmpty(subject, 'subject'), checkClaims(claims), randomUUID());
    },
    verifyAccessToken: (token) => countRejections(metrics, () => verify('access', token)),
    verifyRefreshToken: (token) => countRejections(metrics, () => verifyRefresh(token)),
    async refresh(refreshToken, refreshOptions = {}) {
      const revocations = requireStore('refresh');
      const claims = await countRejections(metrics, () => verifyRefresh(refreshToken));
      // The atomic test-and-set decides a race between two refreshes with one token.
      const firstUse = await revocations.add(`used:${claims.jti}`, until(claims.exp));
      if (!firstUse) await countRejections(metrics, () => rejectReuse(revocations, claims.fam));
      const claimsOut = refreshOptions.claims ?? customClaimsOf(claims);
      return issuePair(claims.sub, checkClaims(claimsOut), claims.fam);
    },
    async revokeToken(token) {
      const revocations = requireStore('revokeToken');
      const type = typeOf(token);
      let claims: VerifiedClaims;
      try {
        claims = await verify(type, token);
      } catch (err) {
        // Already unusable: nothing to record.
        if (
          err instanceof TokenRejected &&
          ['ERR_TOKEN_EXPIRED', 'ERR_TOKEN_REVOKED'].includes(err.code)
        ) {
          return;
        }
        throw err;
      }
      if (type === 'refresh' && typeof claims.fam === 'string') {
        await revocations.add(`fam:${claims.fam}`, familyUntil());
      } else {
        await revocations.add(`jti:${claims.jti}`, until(claims.exp));
      }
    },
    async revokeFamily(familyId) {
      await requireStore('revokeFamily').add(
        `fam:${nonEmpty(familyId, 'familyId')}`,
        familyUntil(),
      );
    },
    updateKeys(next) {
      keys = toTokenKeys(next);
      metrics?.rotation('jwt_keys');
    },
  };
}

function toTokenKeys(keys: JwtKeyset | TokenKeys): TokenKeys {
  if (keys instanceof JwtKeyset) return { access: keys, refresh: keys };
  if (!(keys?.access instanceof JwtKeyset) || !(keys.refresh instanceof JwtKeyset)) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'keys must be a JwtKeyset or { access, refresh }',
    );
  }
  return keys;
}

function typeOf(token: string): TokenType {
  try {
    const typ = decodeProtectedHeader(token).typ;
    return typeof typ === 'string' && typ.toLowerCase() === TOKEN_TYP.refresh
      ? 'refresh'
      : 'access';
  } catch {
    throw new TokenRejected('ERR_TOKEN_INVALID', 'the token is malformed');
  }
}

function checkClaims(claims: CustomClaims): CustomClaims {
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'claims must be a plain object');
  }
  for (const name of Object.keys(claims)) {
    if (REGISTERED_CLAIMS.has(name)) {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `claim "${name}" is set by custos; pass subject for "sub" and leave the others out`,
      );
    }
  }
  return claims;
}

function customClaimsOf(claims: VerifiedClaims): CustomClaims {
  return Object.fromEntries(
    Object.entries(claims).filter(([name]) => !REGISTERED_CLAIMS.has(name)),
  );
}

function nonEmpty(value: string, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new CustosError('ERR_INVALID_ARGUMENT', `${what} must be a non-empty string`);
  }
  return value;
}
