import { decodeJwt, decodeProtectedHeader } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createMemoryRevocationStore,
  createTokenService,
  JwtKeyset,
  type TokenService,
} from './index.js';

const issuer = 'https://issuer.test';
const audience = ['api', 'admin'];

describe('token service', () => {
  let keys: JwtKeyset;
  let tokens: TokenService;
  beforeAll(async () => {
    keys = await JwtKeyset.generate('ES256');
    tokens = createTokenService({
      keys,
      issuer,
      audience,
      revocations: createMemoryRevocationStore(),
    });
  });

  it('issues a pair with default lifetimes, kid, typ, a jti on every token and one family', async () => {
    const pair = await tokens.issueTokenPair({ subject: 'alice', claims: { role: 'nurse' } });
    const access = decodeJwt(pair.accessToken);
    const refresh = decodeJwt(pair.refreshToken);
    expect(decodeProtectedHeader(pair.accessToken)).toEqual({
      alg: 'ES256',
      kid: keys.current.kid,
      typ: 'at+jwt',
    });
    expect(decodeProtectedHeader(pair.refreshToken).typ).toBe('refresh+jwt');
    expect((access.exp as number) - (access.iat as number)).toBe(15 * 60);
    expect((refresh.exp as number) - (refresh.iat as number)).toBe(7 * 24 * 3600);
    expect(access).toMatchObject({
      sub: 'alice',
      role: 'nurse',
      iss: issuer,
      aud: audience,
      fam: pair.familyId,
    });
    expect(refresh.fam).toBe(pair.familyId);
    expect(access.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(refresh.jti).not.toBe(access.jti);
    expect(pair.accessExpiresAt.getTime()).toBe((access.exp as number) * 1000);
    await expect(tokens.verifyAccessToken(pair.accessToken)).resolves.toMatchObject({
      role: 'nurse',
    });
  });

  it('takes its lifetimes from the options and refuses registered claim names', async () => {
    const short = createTokenService({
      keys,
      issuer,
      audience: 'api',
      accessTtlSeconds: 60,
      refreshTtlSeconds: 3600,
    });
    const pair = await short.issueTokenPair({ subject: 'bob' });
    const access = decodeJwt(pair.accessToken);
    expect((access.exp as number) - (access.iat as number)).toBe(60);
    const lone = await short.signAccessToken({ subject: 'svc', ttlSeconds: 30 });
    expect(decodeJwt(lone.token)).not.toHaveProperty('fam');
    await expect(short.issueTokenPair({ subject: 'bob', claims: { exp: 1 } })).rejects.toThrow(
      /claim "exp" is set by custos/,
    );
    await expect(short.issueTokenPair({ subject: '' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    expect(() => createTokenService({ keys, issuer, audience, accessTtlSeconds: 0 })).toThrow(
      /accessTtlSeconds/,
    );
  });

  it('refresh rotates: the new pair works, the old refresh token is used up', async () => {
    const first = await tokens.issueTokenPair({ subject: 'carol', claims: { tenant: 't1' } });
    const second = await tokens.refresh(first.refreshToken);
    expect(second.familyId).toBe(first.familyId);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    await expect(tokens.verifyAccessToken(second.accessToken)).resolves.toMatchObject({
      sub: 'carol',
      tenant: 't1',
    });
    const third = await tokens.refresh(second.refreshToken, { claims: { tenant: 't2' } });
    expect(decodeJwt(third.accessToken).tenant).toBe('t2');
  });

  it('reuse of a refresh token revokes its whole family, and only that family', async () => {
    const session = await tokens.issueTokenPair({ subject: 'dave' });
    const other = await tokens.issueTokenPair({ subject: 'dave' });
    const rotated = await tokens.refresh(session.refreshToken);

    // An attacker replays the stolen, already-used refresh token.
    await expect(tokens.refresh(session.refreshToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_REUSED',
    });
    // Every token of that family is now refused, including the legitimate rotated pair.
    await expect(tokens.refresh(rotated.refreshToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVOKED',
    });
    await expect(tokens.verifyAccessToken(rotated.accessToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVOKED',
    });
    await expect(tokens.verifyAccessToken(session.accessToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVOKED',
    });
    // Another session of the same user is untouched.
    await expect(tokens.verifyAccessToken(other.accessToken)).resolves.toMatchObject({
      sub: 'dave',
    });
    await expect(tokens.refresh(other.refreshToken)).resolves.toMatchObject({
      familyId: other.familyId,
    });
  });

  it('verifyRefreshToken treats a used refresh token as reuse and revokes its family', async () => {
    const session = await tokens.issueTokenPair({ subject: 'ivan' });
    const other = await tokens.issueTokenPair({ subject: 'ivan' });
    await expect(tokens.verifyRefreshToken(session.refreshToken)).resolves.toMatchObject({
      sub: 'ivan',
      fam: session.familyId,
    });
    const rotated = await tokens.refresh(session.refreshToken);
    // The used token, checked without being used (a "is this session alive?" endpoint).
    await expect(tokens.verifyRefreshToken(session.refreshToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_REUSED',
    });
    await expect(tokens.verifyAccessToken(rotated.accessToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVOKED',
    });
    await expect(tokens.verifyRefreshToken(rotated.refreshToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVOKED',
    });
    await expect(tokens.verifyRefreshToken(other.refreshToken)).resolves.toMatchObject({
      sub: 'ivan',
      fam: other.familyId,
    });
  });

  it('revokes one access token, or a whole session through its refresh token', async () => {
    const pair = await tokens.issueTokenPair({ subject: 'erin' });
    const again = await tokens.refresh(pair.refreshToken);
    const lone = await tokens.signAccessToken({ subject: 'svc' });
    const lone2 = await tokens.signAccessToken({ subject: 'svc' });
    await tokens.revokeToken(lone.token);
    await expect(tokens.verifyAccessToken(lone.token)).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVOKED',
    });
    await expect(tokens.verifyAccessToken(lone2.token)).resolves.toMatchObject({
      sub: 'svc',
      jti: lone2.jti,
    });
    await tokens.revokeToken(lone.token); // revoking twice is fine

    await tokens.revokeToken(again.refreshToken); // log out
    await expect(tokens.verifyAccessToken(again.accessToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVOKED',
    });
    await expect(tokens.refresh(again.refreshToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVOKED',
    });

    const third = await tokens.issueTokenPair({ subject: 'erin' });
    await tokens.revokeFamily(third.familyId);
    await expect(tokens.verifyRefreshToken(third.refreshToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVOKED',
    });
    await expect(tokens.revokeToken('not-a-jwt')).rejects.toMatchObject({
      code: 'ERR_TOKEN_INVALID',
    });
  });

  it('separate keysets for access and refresh tokens', async () => {
    const access = await JwtKeyset.generate('HS256');
    const refresh = await JwtKeyset.generate('HS256');
    const split = createTokenService({
      keys: { access, refresh },
      issuer,
      audience,
      revocations: createMemoryRevocationStore(),
    });
    const pair = await split.issueTokenPair({ subject: 'frank' });
    expect(decodeProtectedHeader(pair.accessToken).kid).toBe(access.current.kid);
    expect(decodeProtectedHeader(pair.refreshToken).kid).toBe(refresh.current.kid);
    await expect(split.refresh(pair.refreshToken)).resolves.toMatchObject({
      familyId: pair.familyId,
    });
    await expect(split.verifyAccessToken(pair.refreshToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_WRONG_TYPE',
    });
  });

  it('refresh and revocation need a store, and say so', async () => {
    const stateless = createTokenService({ keys, issuer, audience });
    const pair = await stateless.issueTokenPair({ subject: 'gina' });
    await expect(stateless.verifyAccessToken(pair.accessToken)).resolves.toMatchObject({
      sub: 'gina',
      fam: pair.familyId,
    });
    await expect(stateless.refresh(pair.refreshToken)).rejects.toThrow(/needs a revocation store/);
    await expect(stateless.revokeFamily(pair.familyId)).rejects.toThrow(/needs a revocation store/);
  });
});
