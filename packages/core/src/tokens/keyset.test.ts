import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTokenService,
  JWT_ALGORITHMS,
  JwtKeyset,
  loadJwtKeyset,
  parseDurationSeconds,
  readJwtKeysetFile,
  serializeJwtKeyset,
  writeJwtKeysetFile,
} from './index.js';

const issuer = 'https://issuer.test';
const audience = 'api';

describe('JwtKeyset', () => {
  it.each(JWT_ALGORITHMS)(
    'signs and verifies with a fresh %s key, also after a JSON round trip',
    async (alg) => {
      const keyset = await JwtKeyset.generate(alg);
      expect(keyset.current).toMatchObject({ algorithm: alg, status: 'current' });
      const tokens = createTokenService({ keys: keyset, issuer, audience });
      const { token } = await tokens.signAccessToken({ subject: 'user-1' });
      const reloaded = await loadJwtKeyset(serializeJwtKeyset(keyset));
      expect(reloaded.keys).toEqual(keyset.keys);
      const verifier = createTokenService({ keys: reloaded, issuer, audience });
      await expect(verifier.verifyAccessToken(token)).resolves.toMatchObject({ sub: 'user-1' });
    },
  );

  it('never prints key material, only ids and dates', async () => {
    const keyset = await JwtKeyset.generate('HS256');
    const serialized = JSON.parse(serializeJwtKeyset(keyset));
    const secret = serialized.keys[0].jwk.k as string;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const shown of [JSON.stringify(keyset), inspect(keyset), String(keyset)]) {
      expect(shown).not.toContain(secret);
    }
    expect(inspect(keyset)).toContain(keyset.current.kid);
  });

  it('rotates: new current key, old one previous until the end of the grace window', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const first = await JwtKeyset.generate('ES256', { now });
    const second = await first.rotate({ graceSeconds: parseDurationSeconds('48h'), now });
    expect(second.current.kid).not.toBe(first.current.kid);
    expect(second.keys[1]).toEqual({
      ...first.current,
      status: 'previous',
      verifyUntil: '2030-01-03T00:00:00.000Z',
    });
    // A later rotation drops keys whose grace already ended, and prune does the same.
    const later = new Date('2030-01-05T00:00:00Z');
    const third = await second.rotate({ graceSeconds: 3600, now: later, algorithm: 'EdDSA' });
    expect(third.keys.map((k) => [k.kid, k.status])).toEqual([
      [third.current.kid, 'current'],
      [second.current.kid, 'previous'],
    ]);
    expect(third.current.algorithm).toBe('EdDSA');
    expect(third.algorithms).toEqual(['EdDSA', 'ES256']);
    expect(second.prune(later).keys).toHaveLength(1);
  });

  it('publishes only public keys still in use, never HS256 secrets', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const es = await JwtKeyset.generate('ES256', { now });
    const rotated = await es.rotate({ graceSeconds: 60, now, algorithm: 'HS256' });
    const rsa = await (await rotated.rotate({ graceSeconds: 600, now, algorithm: 'RS256' })).rotate(
      { graceSeconds: 600, now, algorithm: 'EdDSA' },
    );
    const jwks = rsa.toJwks(now);
    expect(jwks.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'EdDSA', 'RS256']);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ use: 'sig', kid: expect.any(String) });
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])
        expect(key).not.toHaveProperty(member);
    }
    // After the ES256 key's 60 s grace it is no longer published.
    const later = new Date(now.getTime() + 61_000);
    expect(rsa.toJwks(later).keys.map((k) => k.alg)).not.toContain('ES256');
  });

  it('parses durations for the CLI', () => {
    expect(parseDurationSeconds('48h')).toBe(172_800);
    expect(parseDurationSeconds('15m')).toBe(900);
    expect(parseDurationSeconds('7d')).toBe(604_800);
    expect(parseDurationSeconds('90')).toBe(90);
    expect(() => parseDurationSeconds('two days')).toThrow(/48h/);
  });
});

describe('loadJwtKeyset refuses bad keysets', () => {
  type KeyJson = Record<string, unknown> & { jwk: Record<string, unknown> };
  let good: { custos: string; keys: KeyJson[] };
  beforeAll(async () => {
    const keyset = await (await JwtKeyset.generate('HS256')).rotate({ graceSeconds: 60 });
    good = JSON.parse(serializeJwtKeyset(keyset));
  });
  /** The good keyset with `change` applied to key `index` (or to the root). */
  const variant =
    (index: number | 'root', change: (target: Record<string, unknown>) => void) => () => {
      const copy = structuredClone(good);
      change(index === 'root' ? copy : (copy.keys[index] as KeyJson));
      return copy;
    };

  it.each([
    ['not JSON', () => '{"custos": "jwt-keyset", "keys": [', /not valid JSON/],
    [
      'another format',
      variant('root', (j) => {
        j.custos = 'keyring';
      }),
      /"custos"/,
    ],
    [
      'two current keys',
      variant(1, (k) => {
        k.status = 'current';
      }),
      /exactly one current/,
    ],
    [
      'duplicate kid',
      variant(1, (k) => {
        k.kid = good.keys[0]?.kid;
      }),
      /appears twice/,
    ],
    [
      'kid with a path in it',
      variant(0, (k) => {
        k.kid = '../etc';
      }),
      /kid must be/,
    ],
    [
      'unknown algorithm',
      variant(0, (k) => {
        k.alg = 'none';
      }),
      /keys\[0\]\.alg/,
    ],
    [
      'a secret too short',
      variant(0, (k) => {
        (k as KeyJson).jwk.k = 'c2hvcnQ';
      }),
      /at least 32 bytes/,
    ],
    [
      'bad date',
      variant(1, (k) => {
        k.verifyUntil = 'tomorrow';
      }),
      /verifyUntil/,
    ],
    [
      'a previous key with no end to its grace window',
      variant(1, (k) => {
        delete k.verifyUntil;
      }),
      /keys\[1\]\.verifyUntil is missing: a previous key must carry the end of its grace window/,
    ],
  ])('%s', async (_label, input, message) => {
    const secret = good.keys[0]?.jwk.k as string;
    const err = await loadJwtKeyset(input()).catch((e: Error) => e);
    expect(err).toMatchObject({
      code: 'ERR_MALFORMED_KEYSET',
      message: expect.stringMatching(message),
    });
    expect(String((err as Error).message)).not.toContain(secret);
  });

  it('refuses an RSA key filed as HS256 or EC', async () => {
    const rsa = JSON.parse(serializeJwtKeyset(await JwtKeyset.generate('RS256')));
    rsa.keys[0].alg = 'HS256';
    await expect(loadJwtKeyset(rsa)).rejects.toThrow(/HS256 needs a oct key/);
    rsa.keys[0].alg = 'ES256';
    await expect(loadJwtKeyset(rsa)).rejects.toThrow(/ES256 needs a EC P-256 key/);
  });
});

describe('keyset files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-keyset-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes mode 0600 and refuses to read a file others can read', async () => {
    const file = join(dir, 'jwt-keys.json');
    const keyset = await JwtKeyset.generate('EdDSA');
    await writeJwtKeysetFile(file, keyset);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readJwtKeysetFile(file)).current).toEqual(keyset.current);
    await chmod(file, 0o644);
    await expect(readJwtKeysetFile(file)).rejects.toMatchObject({ code: 'ERR_INSECURE_FILE' });
    await expect(readJwtKeysetFile(join(dir, 'missing.json'))).rejects.toThrow(/does not exist/);
  });

  it('refuses a file whose previous key has no verifyUntil (it would verify forever)', async () => {
    const file = join(dir, 'open-ended.json');
    const rotated = await (await JwtKeyset.generate('ES256')).rotate({ graceSeconds: 60 });
    const json = JSON.parse(serializeJwtKeyset(rotated));
    expect(json.keys[1]).toMatchObject({ status: 'previous', verifyUntil: expect.any(String) });
    delete json.keys[1].verifyUntil;
    await writeFile(file, JSON.stringify(json), { mode: 0o600 });
    await expect(readJwtKeysetFile(file)).rejects.toMatchObject({
      code: 'ERR_MALFORMED_KEYSET',
      message: expect.stringMatching(/^keys\[1\]\.verifyUntil is missing/),
    });
  });
});
