import { webcrypto } from 'node:crypto';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { CustosError } from '../errors/index.js';
import { MIN_HMAC_SECRET_BYTES } from '../lib/hmac-secret-strength.js';

/**
 * The JWS algorithms a custos keyset signs with.
 *
 * @example
 * ```ts
 * program.addOption(new Option('--jwt <alg>').choices([...JWT_ALGORITHMS]));
 * ```
 */
export const JWT_ALGORITHMS = ['HS256', 'ES256', 'EdDSA', 'RS256'] as const;

/** One of {@link JWT_ALGORITHMS}. `EdDSA` means Ed25519. */
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

const MIN_RSA_MODULUS_BITS = 2048;

/**
 * Type guard for {@link JwtAlgorithm}.
 *
 * @example
 * ```ts
 * if (!isJwtAlgorithm(flag)) throw new Error('use HS256, ES256, EdDSA or RS256');
 * ```
 */
export function isJwtAlgorithm(value: unknown): value is JwtAlgorithm {
  return typeof value === 'string' && (JWT_ALGORITHMS as readonly string[]).includes(value);
}

/** The imported forms of one key: what signs, what verifies, and the JWKs to store and publish. */
export interface KeyMaterial {
  /** Private (or secret) JWK members only, no `kid`/`alg`: what a keyset file stores. */
  readonly privateJwk: JWK;
  /** Public JWK members, for asymmetric algorithms; undefined for HS256 (never published). */
  readonly publicJwk: JWK | undefined;
  readonly signingKey: CryptoKey;
  readonly verifyKey: CryptoKey;
}

const PRIVATE_MEMBERS: Record<JwtAlgorithm, readonly string[]> = {
  HS256: ['kty', 'k'],
  ES256: ['kty', 'crv', 'x', 'y', 'd'],
  EdDSA: ['kty', 'crv', 'x', 'd'],
  RS256: ['kty', 'n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'],
};
const PUBLIC_MEMBERS: Record<Exclude<JwtAlgorithm, 'HS256'>, readonly string[]> = {
  ES256: ['kty', 'crv', 'x', 'y'],
  EdDSA: ['kty', 'crv', 'x'],
  RS256: ['kty', 'n', 'e'],
};
const EXPECTED_SHAPE: Record<JwtAlgorithm, { kty: string; crv?: string }> = {
  HS256: { kty: 'oct' },
  ES256: { kty: 'EC', crv: 'P-256' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  RS256: { kty: 'RSA' },
};

function pick(jwk: JWK, members: readonly string[]): JWK {
  const out: Record<string, unknown> = {};
  for (const m of members) {
    const value = (jwk as Record<string, unknown>)[m];
    if (value !== undefined) out[m] = value;
  }
  return out as JWK;
}

/**
 * Generates a new key for `algorithm`: 256-bit HMAC secret, P-256, Ed25519 or RSA (2048 bits
 * unless `rsaModulusLength` says more).
 */
export async function generateKeyMaterial(
  algorithm: JwtAlgorithm,
  options: { rsaModulusLength?: number } = {},
): Promise<KeyMaterial> {
  if (algorithm === 'HS256') {
    return hmacKeyMaterial(webcrypto.getRandomValues(new Uint8Array(MIN_HMAC_SECRET_BYTES)));
  }
  const modulusLength = options.rsaModulusLength ?? MIN_RSA_MODULUS_BITS;
  if (algorithm === 'RS256' && (!Number.isInteger(modulusLength) || modulusLength < 2048)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'rsaModulusLength must be at least 2048');
  }
  const { privateKey } = await generateKeyPair(algorithm, {
    extractable: true,
    ...(algorithm === 'RS256' ? { modulusLength } : {}),
  });
  return importKeyMaterial(algorithm, await exportJWK(privateKey));
}

/**
 * Imports a stored private JWK for `algorithm`, checking that its type and curve fit the
 * algorithm (so an RSA key can never be used as an HMAC secret, nor the reverse). Throws a
 * plain `Error` naming the problem; callers wrap it with their own error code and context.
 */
export async function importKeyMaterial(algorithm: JwtAlgorithm, jwk: JWK): Promise<KeyMaterial> {
  const shape = EXPECTED_SHAPE[algorithm];
  if (jwk.kty !== shape.kty || (shape.crv !== undefined && jwk.crv !== shape.crv)) {
    throw new Error(`${algorithm} needs a ${shape.kty}${shape.crv ? ` ${shape.crv}` : ''} key`);
  }
  if (algorithm === 'HS256') {
    if (typeof jwk.k !== 'string') throw new Error('the HS256 key has no "k"');
    return hmacKeyMaterial(Buffer.from(jwk.k, 'base64url'));
  }
  if (typeof jwk.d !== 'string') throw new Error(`the ${algorithm} key has no private part`);
  if (algorithm === 'RS256' && Buffer.from(String(jwk.n), 'base64url').length * 8 < 2048) {
    throw new Error('the RS256 modulus is shorter than 2048 bits');
  }
  const privateJwk = pick(jwk, PRIVATE_MEMBERS[algorithm]);
  const publicJwk = pick(jwk, PUBLIC_MEMBERS[algorithm]);
  const [signingKey, verifyKey] = await Promise.all([
    importJWK(privateJwk, algorithm) as Promise<CryptoKey>,
    importJWK(publicJwk, algorithm) as Promise<CryptoKey>,
  ]);
  return { privateJwk, publicJwk, signingKey, verifyKey };
}

/** HS256 material from raw secret bytes (at least {@link MIN_HMAC_SECRET_BYTES}). */
export async function hmacKeyMaterial(secret: Uint8Array): Promise<KeyMaterial> {
  if (secret.length < MIN_HMAC_SECRET_BYTES) {
    throw new Error(`an HS256 secret must be at least ${MIN_HMAC_SECRET_BYTES} bytes`);
  }
  const key = await webcrypto.subtle.importKey(
    'raw',
    secret,
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  );
  return {
    privateJwk: { kty: 'oct', k: Buffer.from(secret).toString('base64url') },
    publicJwk: undefined,
    signingKey: key as unknown as CryptoKey,
    verifyKey: key as unknown as CryptoKey,
  };
}
