import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTokenService, JwtKeyset, type TokenService } from './index.js';

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

  it.each(['HS256', 'ES256'] as const)(
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
    await expect(tokens.verifyAccessToken(token)).resolves.toBeDefined();
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
    await expect(tokens.verifyAccessToken(token)).resolves.toBeDefined();
  });
});
