import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createMemoryRevocationStore,
  createTokenService,
  JWT_ALGORITHMS,
  JwtKeyset,
  type MemoryRevocationStore,
  type TokenService,
} from './index.js';

const issuer = 'https://issuer.test';
const audience = 'api';
const HOUR = 3_600_000;

/**
 * Rotation across the grace window, on a faked clock: `Date` drives both the keyset's grace
 * check and jose's expiry check, so the tokens live long enough (7 days) for the window to be
 * what decides.
 */
describe('rotation across the grace window', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z'), toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const service = (keys: JwtKeyset): TokenService =>
    createTokenService({ keys, issuer, audience, accessTtlSeconds: 7 * 24 * 3600 });

  it.each(JWT_ALGORITHMS)(
    '%s: old tokens verify until the window ends, are refused after, and new tokens use the new key',
    async (alg) => {
      const before = await JwtKeyset.generate(alg);
      const { token: oldToken } = await service(before).signAccessToken({ subject: 'u1' });

      const after = await before.rotate({ graceSeconds: 48 * 3600 });
      const tokens = service(after);
      const { token: newToken } = await tokens.signAccessToken({ subject: 'u2' });
      await expect(tokens.verifyAccessToken(oldToken)).resolves.toMatchObject({ sub: 'u1' });

      vi.advanceTimersByTime(48 * HOUR - 1000);
      await expect(tokens.verifyAccessToken(oldToken)).resolves.toMatchObject({ sub: 'u1' });

      vi.advanceTimersByTime(1000);
      await expect(tokens.verifyAccessToken(oldToken)).rejects.toMatchObject({
        code: 'ERR_TOKEN_KEY_RETIRED',
      });
      await expect(tokens.verifyAccessToken(newToken)).resolves.toMatchObject({ sub: 'u2' });
    },
  );

  it('refuses tokens signed by a key that was removed from the keyset', async () => {
    const before = await JwtKeyset.generate('EdDSA');
    const { token } = await service(before).signAccessToken({ subject: 'u1' });
    const rotated = await before.rotate({ graceSeconds: 3600 });
    vi.advanceTimersByTime(2 * HOUR);
    const pruned = rotated.prune();
    expect(pruned.keys).toHaveLength(1);
    await expect(service(pruned).verifyAccessToken(token)).rejects.toMatchObject({
      code: 'ERR_TOKEN_KEY_NOT_FOUND',
      message: expect.stringMatching(/unknown, or removed/),
    });
  });

  it('expiry still applies inside the grace window', async () => {
    const keys = await JwtKeyset.generate('ES256');
    const tokens = createTokenService({ keys, issuer, audience, clockToleranceSeconds: 5 });
    const { token } = await tokens.signAccessToken({ subject: 'u1' });
    vi.advanceTimersByTime(15 * 60_000 + 4000);
    await expect(tokens.verifyAccessToken(token)).resolves.toMatchObject({ sub: 'u1' });
    vi.advanceTimersByTime(1000);
    await expect(tokens.verifyAccessToken(token)).rejects.toMatchObject({
      code: 'ERR_TOKEN_EXPIRED',
    });
  });

  it('a service picks up a rotated keyset with updateKeys', async () => {
    const before = await JwtKeyset.generate('HS256');
    const tokens = service(before);
    const { token } = await tokens.signAccessToken({ subject: 'u1' });
    const after = await before.rotate({ graceSeconds: 60 });
    tokens.updateKeys(after);
    const { token: next } = await tokens.signAccessToken({ subject: 'u1' });
    const kidOf = (t: string) =>
      JSON.parse(Buffer.from(t.split('.')[0] as string, 'base64url').toString()).kid;
    expect(kidOf(next)).toBe(after.current.kid);
    expect(kidOf(token)).toBe(before.current.kid);
    await expect(tokens.verifyAccessToken(token)).resolves.toMatchObject({ sub: 'u1' });
  });
});

/**
 * What the service writes to the memory store, and when the store lets go of it: every entry
 * lives exactly as long as the token it concerns can still verify (expiry plus clock tolerance),
 * so revocation never lapses early and the store never grows without bound.
 */
describe('revocation entries expire with the token', () => {
  const T0 = new Date('2030-01-01T00:00:00Z').getTime();
  const SECOND = 1000;
  const DAY = 24 * HOUR;
  const tolerance = 5;
  beforeEach(() => {
    vi.useFakeTimers({ now: T0, toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** The memory store, recording the expiry of every entry the service adds. */
  function recordingStore(): MemoryRevocationStore & { readonly written: Map<string, number> } {
    const inner = createMemoryRevocationStore();
    const written = new Map<string, number>();
    return {
      written,
      add(id, expiresAt) {
        written.set(id, expiresAt.getTime());
        return inner.add(id, expiresAt);
      },
      hasAny: inner.hasAny,
      size: inner.size,
    };
  }

  async function setup() {
    const revocations = recordingStore();
    const tokens = createTokenService({
      keys: await JwtKeyset.generate('ES256'),
      issuer,
      audience,
      revocations,
      clockToleranceSeconds: tolerance,
    });
    return { revocations, tokens };
  }

  /** Moves the fake clock to an absolute time. */
  const at = (time: number) => vi.setSystemTime(time);

  it('a revoked access token: jti entry until exp + tolerance, then gone as the token expires', async () => {
    const { revocations, tokens } = await setup();
    const { token, jti, expiresAt } = await tokens.signAccessToken({ subject: 'u1' });
    expect(expiresAt.getTime()).toBe(T0 + 900 * SECOND);
    await tokens.revokeToken(token);
    const end = expiresAt.getTime() + tolerance * SECOND;
    expect([...revocations.written]).toEqual([[`jti:${jti}`, end]]);

    at(end - 1);
    expect(revocations.size()).toBe(1);
    await expect(tokens.verifyAccessToken(token)).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVOKED',
    });
    at(end);
    expect(revocations.size()).toBe(0);
    await expect(tokens.verifyAccessToken(token)).rejects.toMatchObject({
      code: 'ERR_TOKEN_EXPIRED',
    });
  });

  it('a used refresh token: used entry until its exp + tolerance', async () => {
    const { revocations, tokens } = await setup();
    const pair = await tokens.issueTokenPair({ subject: 'u1' });
    at(T0 + HOUR);
    await tokens.refresh(pair.refreshToken);
    const { jti, exp } = decodeJwt(pair.refreshToken);
    const end = (exp as number) * SECOND + tolerance * SECOND;
    expect(end).toBe(T0 + 7 * DAY + tolerance * SECOND);
    expect([...revocations.written]).toEqual([[`used:${jti}`, end]]);

    at(end - 1);
    expect(await revocations.hasAny([`used:${jti}`])).toBe(true);
    at(end);
    expect(await revocations.hasAny([`used:${jti}`])).toBe(false);
    expect(revocations.size()).toBe(0);
    // Forgotten only once the token is refused on its own, so this is no reuse.
    await expect(tokens.verifyRefreshToken(pair.refreshToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_EXPIRED',
    });
  });

  it('a revoked family: fam entry outlives every token of the family, then goes', async () => {
    const { revocations, tokens } = await setup();
    const first = await tokens.issueTokenPair({ subject: 'u1' });
    at(T0 + HOUR);
    const second = await tokens.refresh(first.refreshToken);
    at(T0 + 2 * HOUR);
    await expect(tokens.refresh(first.refreshToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_REUSED',
    });
    const familyEnd = T0 + 2 * HOUR + 7 * DAY + tolerance * SECOND;
    expect(revocations.written.get(`fam:${first.familyId}`)).toBe(familyEnd);
    const latestTokenEnd = second.refreshExpiresAt.getTime() + tolerance * SECOND;
    expect(familyEnd).toBeGreaterThan(latestTokenEnd);

    // Refused as revoked for as long as it could otherwise verify, as expired after that.
    at(latestTokenEnd - 1);
    await expect(tokens.verifyRefreshToken(second.refreshToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVOKED',
    });
    at(latestTokenEnd);
    await expect(tokens.verifyRefreshToken(second.refreshToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_EXPIRED',
    });
    at(familyEnd - 1);
    expect(await revocations.hasAny([`fam:${first.familyId}`])).toBe(true);
    at(familyEnd);
    expect(revocations.size()).toBe(0);
  });

  it('revoking a session through its refresh token writes the family until now + refresh lifetime', async () => {
    const { revocations, tokens } = await setup();
    const pair = await tokens.issueTokenPair({ subject: 'u1' });
    at(T0 + 10 * 60 * SECOND);
    await tokens.revokeToken(pair.refreshToken);
    expect([...revocations.written]).toEqual([
      [`fam:${pair.familyId}`, T0 + 10 * 60 * SECOND + 7 * DAY + tolerance * SECOND],
    ]);
    // One entry covers both tokens of the session.
    await expect(tokens.verifyAccessToken(pair.accessToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVOKED',
    });
    await expect(tokens.verifyRefreshToken(pair.refreshToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVOKED',
    });
  });
});
