import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { decodeProtectedHeader, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { Secret } from '../redaction/secret.js';
import { createCompatKeysets, createMemoryRevocationStore, createTokenService } from './index.js';
import { checkJwtSecret } from './secret-strength.js';

const issuer = 'api';
const audience = 'web';
const fresh = () => randomBytes(32).toString('base64'); // as seed 004: openssl rand -base64 32

describe('compatibility mode (JWT_SECRET, JWT_SECRET_PREVIOUS, JWT_REFRESH_SECRET…)', () => {
  it("signs with JWT_SECRET and, after the seeds' rotation, still verifies with _PREVIOUS", async () => {
    const oldAccess = fresh();
    const oldRefresh = fresh();
    const before = createTokenService({
      keys: await createCompatKeysets({
        secrets: { JWT_SECRET: oldAccess, JWT_REFRESH_SECRET: oldRefresh },
      }),
      issuer,
      audience,
    });
    const pair = await before.issueTokenPair({ subject: 'alice' });

    // rotate-jwt-secrets.sh: new values in, old values moved to *_PREVIOUS.
    const env = {
      JWT_SECRET: fresh(),
      JWT_SECRET_PREVIOUS: oldAccess,
      JWT_REFRESH_SECRET: fresh(),
      JWT_REFRESH_SECRET_PREVIOUS: oldRefresh,
    };
    const keys = await createCompatKeysets({ secrets: env });
    const after = createTokenService({
      keys,
      issuer,
      audience,
      revocations: createMemoryRevocationStore(),
    });
    await expect(after.verifyAccessToken(pair.accessToken)).resolves.toMatchObject({
      sub: 'alice',
    });
    const next = await after.refresh(pair.refreshToken);
    // New tokens carry the new secrets' kids.
    expect(decodeProtectedHeader(next.accessToken).kid).toBe(keys.access.current.kid);
    expect(decodeProtectedHeader(next.refreshToken).kid).toBe(keys.refresh.current.kid);
    expect(keys.access.keys.map((k) => k.status)).toEqual(['current', 'previous']);

    // Removing *_PREVIOUS ends the grace window.
    const done = createTokenService({
      keys: await createCompatKeysets({
        secrets: { JWT_SECRET: env.JWT_SECRET, JWT_REFRESH_SECRET: env.JWT_REFRESH_SECRET },
      }),
      issuer,
      audience,
    });
    await expect(done.verifyAccessToken(pair.accessToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_KEY_NOT_FOUND',
    });
    await expect(done.verifyAccessToken(next.accessToken)).resolves.toBeDefined();
  });

  it('derives the same kid in every process, and a different one per secret', async () => {
    const secret = fresh();
    const a = await createCompatKeysets({ secrets: { JWT_SECRET: secret } });
    const b = await createCompatKeysets({
      secrets: (name) => (name === 'JWT_SECRET' ? new Secret(secret) : undefined),
    });
    expect(a.access.current.kid).toBe(b.access.current.kid);
    expect(a.refresh).toBe(a.access); // no JWT_REFRESH_SECRET: refresh tokens use the access keyset
    const c = await createCompatKeysets({ secrets: async () => fresh() });
    expect(c.access.current.kid).not.toBe(a.access.current.kid);
  });

  it('does not accept legacy tokens without a kid (no trying each secret)', async () => {
    const secret = fresh();
    const keys = await createCompatKeysets({ secrets: { JWT_SECRET: secret } });
    const now = Math.floor(Date.now() / 1000);
    const legacy = await new SignJWT({
      sub: 'alice',
      jti: 'x',
      iss: issuer,
      aud: audience,
      iat: now,
      exp: now + 60,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .sign(Buffer.from(secret));
    const tokens = createTokenService({ keys, issuer, audience });
    await expect(tokens.verifyAccessToken(legacy)).rejects.toMatchObject({
      code: 'ERR_TOKEN_KEY_NOT_FOUND',
      message: 'the token has no kid',
    });
  });

  const canary = 'CANARY-9f8e7d6c5b4a39281706f5e4d3c2b1a0';
  it.each([
    [{}, 'ERR_SECRET_MISSING', /JWT_SECRET is not set/],
    [{ JWT_SECRET: 'tooshort' }, 'ERR_WEAK_SECRET', /JWT_SECRET is shorter than 32 bytes/],
    [
      { JWT_SECRET: 'your_jwt_secret_minimum_32_characters' },
      'ERR_WEAK_SECRET',
      /JWT_SECRET looks like a placeholder/,
    ],
    [
      { JWT_SECRET: 'your-64-char-hex-string-here-0123456789abcdef0123456789abcdef' },
      'ERR_WEAK_SECRET',
      /placeholder/,
    ],
    [
      { JWT_SECRET: '<new_secret_that_is_long_enough_to_pass_len>' },
      'ERR_WEAK_SECRET',
      /placeholder/,
    ],
    [{ JWT_SECRET: 'changeme-changeme-changeme-changeme' }, 'ERR_WEAK_SECRET', /placeholder/],
    [{ JWT_SECRET: 'a'.repeat(64) }, 'ERR_WEAK_SECRET', /too few distinct characters/],
    [{ JWT_SECRET: '0101010101010101010101010101010101' }, 'ERR_WEAK_SECRET', /too few distinct/],
    [
      { JWT_SECRET: canary, JWT_REFRESH_SECRET: canary },
      'ERR_WEAK_SECRET',
      /JWT_REFRESH_SECRET must differ from JWT_SECRET/,
    ],
    [
      { JWT_SECRET: canary, JWT_SECRET_PREVIOUS: canary },
      'ERR_WEAK_SECRET',
      /JWT_SECRET_PREVIOUS must differ from JWT_SECRET/,
    ],
    [
      { JWT_SECRET: canary, JWT_REFRESH_SECRET_PREVIOUS: fresh() },
      'ERR_SECRET_MISSING',
      /JWT_REFRESH_SECRET is not/,
    ],
    [
      { JWT_SECRET: canary, JWT_SECRET_PREVIOUS: `${canary.slice(0, 20)}` },
      'ERR_WEAK_SECRET',
      /JWT_SECRET_PREVIOUS is shorter/,
    ],
  ])(
    'refuses %j with %s, naming the variable and never the value',
    async (secrets, code, message) => {
      const err = await createCompatKeysets({ secrets }).catch((e: Error) => e);
      expect(err).toMatchObject({ code, message: expect.stringMatching(message) });
      const shown = `${(err as Error).message} ${(err as Error).stack} ${inspect(err)}`;
      for (const value of Object.values(secrets)) expect(shown).not.toContain(value);
    },
  );

  it('accepts generated secrets: no false positives on random hex, base64 and base64url', async () => {
    for (let i = 0; i < 3000; i++) {
      const bytes = randomBytes(32);
      for (const encoding of ['hex', 'base64', 'base64url'] as const) {
        expect(() => checkJwtSecret('JWT_SECRET', bytes.toString(encoding))).not.toThrow();
      }
    }
  });

  it('honours other variable names', async () => {
    const keys = await createCompatKeysets({
      secrets: { SECRET_KEY: fresh() },
      names: { secret: 'SECRET_KEY' },
    });
    expect(keys.access.current.algorithm).toBe('HS256');
  });
});
