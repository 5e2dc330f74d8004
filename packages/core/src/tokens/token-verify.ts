import { type CryptoKey, type JWSHeaderParameters, type JWTPayload, jwtVerify } from 'jose';
import { TokenRejected } from './errors.js';
import { toTokenRejected } from './jose-errors.js';

/** Access tokens go to APIs; refresh tokens only to the refresh endpoint. */
export type TokenType = 'access' | 'refresh';

/**
 * The JOSE `typ` header of each type: `at+jwt` for access tokens (RFC 9068) and
 * `refresh+jwt` for refresh tokens, so one can never pass for the other.
 *
 * @example
 * ```ts
 * decodeProtectedHeader(token).typ === TOKEN_TYP.refresh; // a refresh token
 * ```
 */
export const TOKEN_TYP: Readonly<Record<TokenType, string>> = {
  access: 'at+jwt',
  refresh: 'refresh+jwt',
};

/** Claims every custos token carries. */
export interface VerifiedClaims extends JWTPayload {
  readonly sub: string;
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
  /** Refresh family (the login session); on every refresh token and its access tokens. */
  readonly fam?: string;
}

/** What a verification pins. */
export interface VerifyRules {
  readonly type: TokenType;
  readonly algorithms: readonly string[];
  readonly issuer: string | readonly string[];
  readonly audience: string | readonly string[];
  readonly clockToleranceSeconds: number;
  readonly now: Date;
}

/** Longest token accepted before any parsing; real ones are well under 2 KiB. */
const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * Verifies a compact JWT with every rule pinned: type (checked first, from the header, so a
 * refresh token used as an access token gets its own error), key (from `selectKey`, which sees
 * the header before any signature check), algorithm, issuer, audience, expiry with the clock
 * tolerance, and the presence of `sub`, `jti`, `iat` and `exp`.
 */
export async function verifyToken(
  token: string,
  selectKey: (header: JWSHeaderParameters) => CryptoKey | Promise<CryptoKey>,
  rules: VerifyRules,
): Promise<VerifiedClaims> {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
    throw new TokenRejected('ERR_TOKEN_INVALID', 'the token is missing, empty or too long');
  }
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        checkType(header, rules.type);
        return selectKey(header);
      },
      {
        algorithms: [...rules.algorithms],
        issuer: typeof rules.issuer === 'string' ? rules.issuer : [...rules.issuer],
        audience: typeof rules.audience === 'string' ? rules.audience : [...rules.audience],
        clockTolerance: rules.clockToleranceSeconds,
        currentDate: rules.now,
        typ: TOKEN_TYP[rules.type],
        requiredClaims: ['sub', 'jti', 'iat', 'exp'],
      },
    );
    for (const claim of ['sub', 'jti'] as const) {
      if (typeof payload[claim] !== 'string' || (payload[claim] as string).length > 255) {
        throw new TokenRejected('ERR_TOKEN_INVALID', `the token's "${claim}" claim is invalid`);
      }
    }
    if (payload.fam !== undefined && typeof payload.fam !== 'string') {
      throw new TokenRejected('ERR_TOKEN_INVALID', `the token's "fam" claim is invalid`);
    }
    return payload as VerifiedClaims;
  } catch (err) {
    throw toTokenRejected(err);
  }
}

function checkType(header: JWSHeaderParameters, expected: TokenType): void {
  const typ =
    typeof header.typ === 'string'
      ? header.typ.toLowerCase().replace(/^application\//, '')
      : undefined;
  if (typ === TOKEN_TYP[expected]) return;
  const other: TokenType = expected === 'access' ? 'refresh' : 'access';
  if (typ === TOKEN_TYP[other]) {
    throw new TokenRejected(
      'ERR_TOKEN_WRONG_TYPE',
      `${withArticle(other)} token was presented where ${withArticle(expected)} token is required`,
    );
  }
  throw new TokenRejected(
    'ERR_TOKEN_INVALID',
    `the token's "typ" header is not ${TOKEN_TYP[expected]}`,
  );
}

const withArticle = (type: TokenType) => (type === 'access' ? 'an access' : 'a refresh');
