import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { decodeProtectedHeader, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHmacSecret } from '../lib/hmac-secret-strength.js';
import { createScrubber } from '../redaction/scrubber.js';
import { createSecrets, dotenvFiles, processEnv } from '../secrets/index.js';
import {
  createCompatKeysets,
  createMemoryRevocationStore,
  createTokenService,
  loadJwtKeyset,
  serializeJwtKeyset,
} from './index.js';

const issuer = 'api';
const audience = 'web';
const fresh = () => randomBytes(32).toString('base64'); // as seed 004: openssl rand -base64 32

describe('compatibility mode (JWT_SECRET, JWT_SECRET_PREVIOUS, JWT_REFRESH_SECRET…)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-compat-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** The seeds' deployment: the variables in a `.env` file, read through the secrets SDK. */
  async function writeEnvFile(values: Record<string, string>): Promise<void> {
    const text = Object.entries(values)
      .map(([name, value]) => `${name}=${value}\n`)
      .join('');
    await writeFile(join(dir, '.env'), text, { mode: 0o600 });
  }

  it("signs with JWT_SECRET and, after the seeds' rotation, still verifies with _PREVIOUS", async () => {
    const warnings: string[] = [];
    // No cache, so each keyset below sees the file as it is then (as a restart would).
    const secrets = createSecrets({
      providers: [dotenvFiles({ directory: dir, mode: 'production' })],
      environment: 'production',
      cacheTtlSeconds: 0,
      onWarning: (message) => warnings.push(message),
      scrubber: createScrubber(),
    });
    const fromSdk = () =>
      createCompatKeysets({ secrets: (name) => secrets.getOptionalSecret(name) });
    const oldAccess = fresh();
    const oldRefresh = fresh();
    await writeEnvFile({ JWT_SECRET: oldAccess, JWT_REFRESH_SECRET: oldRefresh });
    const before = createTokenService({ keys: await fromSdk(), issuer, audience });
    const pair = await before.issueTokenPair({ subject: 'alice' });

    // rotate-jwt-secrets.sh: new values in, old values moved to *_PREVIOUS.
    const env = {
      JWT_SECRET: fresh(),
      JWT_SECRET_PREVIOUS: oldAccess,
      JWT_REFRESH_SECRET: fresh(),
      JWT_REFRESH_SECRET_PREVIOUS: oldRefresh,
    };
    await writeEnvFile(env);
    const keys = await fromSdk();
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
    await writeEnvFile({ JWT_SECRET: env.JWT_SECRET, JWT_REFRESH_SECRET: env.JWT_REFRESH_SECRET });
    const done = createTokenService({ keys: await fromSdk(), issuer, audience });
    await expect(done.verifyAccessToken(pair.accessToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_KEY_NOT_FOUND',
    });
    await expect(done.verifyAccessToken(next.accessToken)).resolves.toMatchObject({
      sub: 'alice',
      fam: pair.familyId,
    });
    expect(warnings).toEqual([]);
    secrets.close();
  });

  it('refuses through the SDK what the SDK itself refuses, naming the variable only', async () => {
    const placeholder = 'your_jwt_secret_minimum_32_characters';
    await writeEnvFile({ JWT_SECRET: placeholder });
    const secrets = createSecrets({
      providers: [dotenvFiles({ directory: dir, mode: 'production' })],
      environment: 'production',
      scrubber: createScrubber(),
    });
    const err = await createCompatKeysets({
      secrets: (name) => secrets.getOptionalSecret(name),
    }).catch((e: Error) => e);
    // The SDK's production gate (WeakSecret) refuses it before compat mode's own check runs.
    expect(err).toMatchObject({
      name: 'WeakSecret',
      code: 'ERR_WEAK_SECRET',
      message: expect.stringMatching(/JWT_SECRET: placeholder/),
    });
    expect(`${(err as Error).message} ${inspect(err)}`).not.toContain(placeholder);
    secrets.close();
  });

  it('keeps _PREVIOUS keys open-ended, and never writes them to a keyset file', async () => {
    const secrets = createSecrets({
      providers: [processEnv({ env: { JWT_SECRET: fresh(), JWT_SECRET_PREVIOUS: fresh() } })],
      environment: 'development',
      scrubber: createScrubber(),
    });
    const { access } = await createCompatKeysets({
      secrets: (name) => secrets.getOptionalSecret(name),
    });
    // The grace window is the deployment: the key verifies until the variable is removed.
    expect(access.keys[1]).toMatchObject({ status: 'previous' });
    expect(access.keys[1]).not.toHaveProperty('verifyUntil');
    // A file has no such outside deadline, so the open-ended key cannot be written to one…
    expect(() => serializeJwtKeyset(access)).toThrow(
      expect.objectContaining({
        code: 'ERR_MALFORMED_KEYSET',
        message: expect.stringMatching(/keys\[1\]\.verifyUntil is missing/),
      }),
    );
    // …unless a rotation gives it the same end as the key it demotes.
    const now = new Date('2030-01-01T00:00:00Z');
    const rotated = await access.rotate({ graceSeconds: 3600, now });
    expect(rotated.keys.map((k) => [k.status, k.verifyUntil])).toEqual([
      ['current', undefined],
      ['previous', '2030-01-01T01:00:00.000Z'],
      ['previous', '2030-01-01T01:00:00.000Z'],
    ]);
    expect((await loadJwtKeyset(serializeJwtKeyset(rotated))).keys).toEqual(rotated.keys);
    secrets.close();
  });

  it('derives the same kid in every process, and a different one per secret', async () => {
    const secret = fresh();
    await writeEnvFile({ JWT_SECRET: secret });
    const fromFile = createSecrets({
      providers: [dotenvFiles({ directory: dir, mode: 'development' })],
      environment: 'development',
      scrubber: createScrubber(),
    });
    const fromEnv = createSecrets({
      providers: [processEnv({ env: { JWT_SECRET: secret } })],
      environment: 'development',
      scrubber: createScrubber(),
    });
    const a = await createCompatKeysets({ secrets: (name) => fromFile.getOptionalSecret(name) });
    const b = await createCompatKeysets({ secrets: (name) => fromEnv.getOptionalSecret(name) });
    expect(a.access.current.kid).toBe(b.access.current.kid);
    expect(a.refresh).toBe(a.access); // no JWT_REFRESH_SECRET: refresh tokens use the access keyset
    const c = await createCompatKeysets({ secrets: { JWT_SECRET: fresh() } });
    expect(c.access.current.kid).not.toBe(a.access.current.kid);
    fromFile.close();
    fromEnv.close();
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
        expect(() => checkHmacSecret('JWT_SECRET', bytes.toString(encoding))).not.toThrow();
      }
    }
  });

  it("accepts the seeds' spellings: _OLD as a previous secret, _NEW as a next one", async () => {
    // Seed 002's rotation: add JWT_SECRET_NEW (both accepted), later promote it; JWT_SECRET_OLD.
    const [old, current, upcoming] = [fresh(), fresh(), fresh()];
    const sign = async (secret: string) =>
      createTokenService({
        keys: await createCompatKeysets({ secrets: { JWT_SECRET: secret } }),
        issuer,
        audience,
      })
        .issueTokenPair({ subject: 'alice' })
        .then((pair) => pair.accessToken);
    const warnings: string[] = [];
    const keys = await createCompatKeysets({
      secrets: { JWT_SECRET: current, JWT_SECRET_OLD: old, JWT_SECRET_NEW: upcoming },
      onWarning: (message) => warnings.push(message),
    });
    expect(keys.access.keys.map((k) => k.status)).toEqual(['current', 'previous', 'previous']);
    const service = createTokenService({ keys, issuer, audience });
    for (const secret of [old, current, upcoming]) {
      await expect(service.verifyAccessToken(await sign(secret))).resolves.toMatchObject({
        sub: 'alice',
      });
    }
    // Only JWT_SECRET signs; the next secret waits for its promotion.
    const issued = await service.issueTokenPair({ subject: 'bob' });
    expect(decodeProtectedHeader(issued.accessToken).kid).toBe(keys.access.current.kid);
    expect(warnings).toEqual([]);
  });

  it('refuses two spellings of one role, and names a JWT secret it does not read', async () => {
    await expect(
      createCompatKeysets({
        secrets: { JWT_SECRET: fresh(), JWT_SECRET_PREVIOUS: fresh(), JWT_SECRET_OLD: fresh() },
      }),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: 'set one of JWT_SECRET_PREVIOUS and JWT_SECRET_OLD, not both',
    });
    await expect(
      createCompatKeysets({ secrets: { JWT_SECRET: fresh(), JWT_REFRESH_SECRET_NEW: fresh() } }),
    ).rejects.toMatchObject({
      code: 'ERR_SECRET_MISSING',
      message: 'JWT_REFRESH_SECRET_NEW is set but JWT_REFRESH_SECRET is not',
    });
    const canary = fresh();
    const warnings: string[] = [];
    await createCompatKeysets({
      secrets: { JWT_SECRET: fresh(), OLD_JWT_SECRET: canary, JWT_ISSUER: 'api' },
      onWarning: (message) => warnings.push(message),
    });
    expect(warnings).toEqual([
      'OLD_JWT_SECRET looks like a previous or next JWT secret but is not read: name it JWT_SECRET_PREVIOUS (verifies only) or JWT_SECRET_NEXT (verifies before it signs)',
    ]);
    expect(warnings.join()).not.toContain(canary);
  });

  it('honours other variable names', async () => {
    const keys = await createCompatKeysets({
      secrets: { SECRET_KEY: fresh() },
      names: { secret: 'SECRET_KEY' },
    });
    expect(keys.access.current.algorithm).toBe('HS256');
  });
});
