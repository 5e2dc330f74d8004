import { createHmac, createPublicKey, createSign, KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createJwksVerifier,
  createTokenService,
  JwtKeyset,
  serializeJwtKeyset,
  type TokenService,
} from './index.js';

const issuer = 'https://issuer.test';
const audience = 'api';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function claims(overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: issuer,
    aud: audience,
    sub: 'mallory',
    jti: 'j1',
    iat: now,
    exp: now + 600,
    ...overrides,
  };
}

/** A compact JWS with any header, signed by `sign` over the signing input. */
function craft(
  header: Record<string, unknown>,
  payload: unknown,
  sign: (input: string) => Buffer | string,
) {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = sign(input);
  return `${input}.${typeof signature === 'string' ? signature : signature.toString('base64url')}`;
}

const hmac = (secret: string | Buffer) => (input: string) =>
  createHmac('sha256', secret).update(input).digest();

async function rejection(promise: Promise<unknown>) {
  const err = await promise.then(
    () => {
      throw new Error('the token was accepted');
    },
    (e: unknown) => e as Error & { code: string },
  );
  return err;
}

describe('attacks on verification are refused', () => {
  let rsa: JwtKeyset;
  let hs: JwtKeyset;
  let rsaTokens: TokenService;
  let hsTokens: TokenService;
  let hsSecret: Buffer;

  beforeAll(async () => {
    rsa = await JwtKeyset.generate('RS256');
    hs = await JwtKeyset.generate('HS256');
    rsaTokens = createTokenService({ keys: rsa, issuer, audience });
    hsTokens = createTokenService({ keys: hs, issuer, audience });
    hsSecret = Buffer.from(JSON.parse(serializeJwtKeyset(hs)).keys[0].jwk.k, 'base64url');
  });

  it('alg "none", with and without a kid', async () => {
    for (const kid of [rsa.current.kid, undefined]) {
      const token = craft(
        { alg: 'none', typ: 'at+jwt', ...(kid ? { kid } : {}) },
        claims(),
        () => '',
      );
      expect((await rejection(rsaTokens.verifyAccessToken(token))).code).toMatch(
        /^ERR_TOKEN_(INVALID|KEY_NOT_FOUND)$/,
      );
    }
    const unsecured = new UnsecuredJWT(claims()).encode();
    expect((await rejection(hsTokens.verifyAccessToken(unsecured))).code).toMatch(/^ERR_TOKEN_/);
    // Even with a valid kid and typ, "none" is not the key's algorithm.
    const none = craft({ alg: 'none', kid: hs.current.kid, typ: 'at+jwt' }, claims(), () => '');
    expect(await rejection(hsTokens.verifyAccessToken(none))).toMatchObject({
      code: 'ERR_TOKEN_INVALID',
    });
  });

  it('algorithm confusion: HS256 "signed" with the RSA public key', async () => {
    const mixed = await hs.rotate({ graceSeconds: 3600, algorithm: 'RS256' });
    expect(mixed.algorithms).toEqual(['RS256', 'HS256']);
    const mixedTokens = createTokenService({ keys: mixed, issuer, audience });
    const rsaOnly = createTokenService({
      keys: mixed.prune(new Date(Date.now() + 7200_000)),
      issuer,
      audience,
    });
    const rsa = mixed; // the RSA key under attack is the mixed keyset's current key
    const publicJwk = rsa.toJwks().keys[0] as import('node:crypto').JsonWebKey;
    const publicKey = createPublicKey({ key: publicJwk, format: 'jwk' });
    const secrets = [
      publicKey.export({ type: 'spki', format: 'pem' }),
      publicKey.export({ type: 'pkcs1', format: 'pem' }),
      publicKey.export({ type: 'spki', format: 'der' }),
      JSON.stringify(publicJwk),
    ];
    for (const secret of secrets) {
      const header = { alg: 'HS256', kid: rsa.current.kid, typ: 'at+jwt' };
      const token = craft(header, claims(), hmac(secret as string | Buffer));
      expect(await rejection(rsaOnly.verifyAccessToken(token))).toMatchObject({
        code: 'ERR_TOKEN_INVALID',
        message: expect.stringMatching(/algorithm is not allowed/),
      });
      // Where HS256 is one of the keyset's algorithms (a keyset moving from HS256 to RS256),
      // the kid still binds the token to the RSA key and its algorithm.
      expect(await rejection(mixedTokens.verifyAccessToken(token))).toMatchObject({
        code: 'ERR_TOKEN_INVALID',
        message: expect.stringMatching(/algorithm does not match key/),
      });
      // A verifier working from the published JWKS refuses it too.
      const verifier = createJwksVerifier({ jwks: rsa.toJwks(), issuer, audience });
      expect((await rejection(verifier.verify(token))).code).toBe('ERR_TOKEN_INVALID');
    }
  });

  it('an RS256 token presented to an HS256 keyset under its kid, and the reverse', async () => {
    const { token: rsToken } = await rsaTokens.signAccessToken({ subject: 'u' });
    const [, payload, signature] = rsToken.split('.');
    const relabelled = `${b64({ alg: 'RS256', kid: hs.current.kid, typ: 'at+jwt' })}.${payload}.${signature}`;
    expect((await rejection(hsTokens.verifyAccessToken(relabelled))).code).toBe(
      'ERR_TOKEN_INVALID',
    );
  });

  it('kid injection: only exact, well-formed key ids are looked up', async () => {
    const kids: unknown[] = [
      '../../../../dev/null',
      "' OR '1'='1",
      `${hs.current.kid}\u0000`,
      `${hs.current.kid} `,
      'a'.repeat(65),
      '__proto__',
      'constructor',
      'https://attacker.test/jwks.json',
      123,
      {},
      [hs.current.kid],
      null,
      true,
    ];
    for (const kid of kids) {
      const token = craft({ alg: 'HS256', kid, typ: 'at+jwt' }, claims(), hmac('attacker secret'));
      expect(await rejection(hsTokens.verifyAccessToken(token)), String(kid)).toMatchObject({
        code: 'ERR_TOKEN_KEY_NOT_FOUND',
      });
    }
  });

  it('an embedded jwk or jku header never supplies the key', async () => {
    const attacker = await generateKeyPair('RS256', { extractable: true });
    const jwk = await exportJWK(attacker.publicKey);
    const header = {
      alg: 'RS256',
      kid: rsa.current.kid,
      typ: 'at+jwt',
      jwk,
      jku: 'https://attacker.test/k',
    };
    const token = craft(header, claims(), (input) =>
      createSign('sha256')
        .update(input)
        .sign(
          KeyObject.from(attacker.privateKey as unknown as Parameters<typeof KeyObject.from>[0]),
        ),
    );
    expect((await rejection(rsaTokens.verifyAccessToken(token))).code).toBe('ERR_TOKEN_INVALID');
  });

  it('tampering, foreign issuer or audience, missing claims and unknown crit headers', async () => {
    const { token } = await hsTokens.signAccessToken({ subject: 'alice' });
    const [header, , signature] = token.split('.');
    const tampered = `${header}.${b64(claims({ sub: 'admin' }))}.${signature}`;
    expect((await rejection(hsTokens.verifyAccessToken(tampered))).message).toMatch(/signature/);

    const elsewhere = createTokenService({ keys: hs, issuer: 'https://other.test', audience });
    expect((await rejection(elsewhere.verifyAccessToken(token))).message).toMatch(/"iss"/);
    const otherAudience = createTokenService({ keys: hs, issuer, audience: 'billing' });
    expect((await rejection(otherAudience.verifyAccessToken(token))).message).toMatch(/"aud"/);

    const base = { alg: 'HS256', kid: hs.current.kid, typ: 'at+jwt' };
    for (const missing of ['jti', 'sub', 'exp', 'iat']) {
      const payload: Record<string, unknown> = claims();
      delete payload[missing];
      const forged = craft(base, payload, hmac(hsSecret));
      expect((await rejection(hsTokens.verifyAccessToken(forged))).message).toContain(
        `"${missing}"`,
      );
    }
    const crit = craft({ ...base, crit: ['x-custom'], 'x-custom': 1 }, claims(), hmac(hsSecret));
    expect((await rejection(hsTokens.verifyAccessToken(crit))).code).toBe('ERR_TOKEN_INVALID');
    // The same forging path with nothing wrong is accepted: the refusals above are specific.
    await expect(
      hsTokens.verifyAccessToken(craft(base, claims(), hmac(hsSecret))),
    ).resolves.toMatchObject({ sub: 'mallory', jti: 'j1', iss: issuer, aud: audience });
  });

  it('access and refresh tokens are not interchangeable', async () => {
    const pair = await hsTokens.issueTokenPair({ subject: 'alice' });
    expect(await rejection(hsTokens.verifyAccessToken(pair.refreshToken))).toMatchObject({
      code: 'ERR_TOKEN_WRONG_TYPE',
      message: 'a refresh token was presented where an access token is required',
    });
    expect((await rejection(hsTokens.verifyRefreshToken(pair.accessToken))).code).toBe(
      'ERR_TOKEN_WRONG_TYPE',
    );
    const plainJwt = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid: hs.current.kid, typ: 'JWT' })
      .sign(hsSecret);
    expect((await rejection(hsTokens.verifyAccessToken(plainJwt))).code).toBe('ERR_TOKEN_INVALID');
  });

  it('never puts the token or the key in an error', async () => {
    const { token } = await hsTokens.signAccessToken({ subject: 'alice' });
    const broken = `${token.slice(0, -4)}AAAA`;
    const err = await rejection(hsTokens.verifyAccessToken(broken));
    for (const shown of [err.message, err.stack ?? '', inspect(err), JSON.stringify(err)]) {
      expect(shown).not.toContain(broken.split('.')[2]);
      expect(shown).not.toContain(hsSecret.toString('base64url'));
    }
    expect((await rejection(hsTokens.verifyAccessToken('x'.repeat(20_000)))).code).toBe(
      'ERR_TOKEN_INVALID',
    );
  });
});
