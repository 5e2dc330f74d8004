import { createHash, createHmac, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import bcrypt from 'bcrypt';
import { describe, expect, it } from 'vitest';
import { LEGACY_HASHES, LONG_PASSWORD, PASSWORD } from '../../test/password-vectors.js';
import { Secret } from '../redaction/secret.js';
import {
  createPasswordHasher,
  hashPassword,
  passwordNeedsRehash,
  verifyPassword,
} from './index.js';

describe('hashPassword / verifyPassword', () => {
  it('hashes with Argon2id and OWASP parameters, in PHC form, salted', async () => {
    const stored = await hashPassword(PASSWORD);
    expect(stored).toMatch(
      /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/,
    );
    expect(await hashPassword(PASSWORD)).not.toBe(stored);
    expect(await verifyPassword(PASSWORD, stored)).toEqual({ valid: true, needsRehash: false });
    expect(await verifyPassword(`${PASSWORD}!`, stored)).toEqual({
      valid: false,
      needsRehash: false,
    });
    expect(await verifyPassword(new Secret(PASSWORD), stored)).toMatchObject({ valid: true });
    expect(await verifyPassword('', stored)).toEqual({ valid: false, needsRehash: false });
    await expect(hashPassword('')).rejects.toThrow(/empty/);
  });

  it('does not truncate long passwords (no 72-byte limit)', async () => {
    const stored = await hashPassword(LONG_PASSWORD);
    const samePrefix = `${LONG_PASSWORD.slice(0, 72)}something else entirely`;
    expect((await verifyPassword(samePrefix, stored)).valid).toBe(false);
    expect((await verifyPassword(LONG_PASSWORD, stored)).valid).toBe(true);
  });

  describe.each(Object.entries(LEGACY_HASHES))('legacy %s', (_format, vectors) => {
    it.each(vectors)(
      'verifies %j and flags it for rehash; refuses a wrong password',
      async (password, stored) => {
        expect(await verifyPassword(password, stored)).toEqual({ valid: true, needsRehash: true });
        expect(await verifyPassword(`${password}x`, stored)).toEqual({
          valid: false,
          needsRehash: false,
        });
        expect(passwordNeedsRehash(stored)).toBe(true);
      },
    );
  });

  it('upgrades a legacy hash transparently on login', async () => {
    const users = new Map([['alice', LEGACY_HASHES['bcrypt $2b$']?.[0]?.[1] as string]]);
    const login = async (name: string, password: string) => {
      const result = await verifyPassword(password, users.get(name) as string);
      if (result.valid && result.needsRehash) users.set(name, await hashPassword(password));
      return result.valid;
    };
    expect(await login('alice', PASSWORD)).toBe(true);
    expect(users.get('alice')).toMatch(/^\$argon2id\$/);
    expect(await login('alice', PASSWORD)).toBe(true);
    expect(passwordNeedsRehash(users.get('alice') as string)).toBe(false);
  });

  it('compares only the 72 bytes a plain bcrypt hash was made from, and asks for a rehash', async () => {
    const legacy = await bcrypt.hash(LONG_PASSWORD, 4); // what a legacy application stored
    expect(await verifyPassword(LONG_PASSWORD, legacy)).toEqual({ valid: true, needsRehash: true });
    // After the rehash the whole password counts.
    const upgraded = await hashPassword(LONG_PASSWORD);
    expect((await verifyPassword(`${LONG_PASSWORD.slice(0, 72)}other`, upgraded)).valid).toBe(
      false,
    );
  });

  it('flags Argon2 hashes weaker than the policy, and other variants', async () => {
    const weak = await hashPassword(PASSWORD, { argon2: { memoryKiB: 7168, iterations: 5 } });
    expect(await verifyPassword(PASSWORD, weak)).toEqual({ valid: true, needsRehash: true });
    expect(passwordNeedsRehash(weak, { argon2: { memoryKiB: 7168, iterations: 5 } })).toBe(false);
    const argon2i =
      '$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$5pDz7e4T1kfkWw8kBfcsUpY9YJ2x8wGzxNAEkSVlMhY';
    expect(passwordNeedsRehash(argon2i)).toBe(true);
  });

  it('makes FIPS PBKDF2-SHA256 (≥ 600,000) and passlib bcrypt-sha256 hashes when asked', async () => {
    const fips = createPasswordHasher({ algorithm: 'pbkdf2-sha256' });
    const stored = await fips.hash(PASSWORD);
    expect(stored).toMatch(/^\$pbkdf2-sha256\$600000\$[./A-Za-z0-9]{22}\$[./A-Za-z0-9]{43}$/);
    expect(await fips.verify(PASSWORD, stored)).toEqual({ valid: true, needsRehash: false });
    expect(fips.needsRehash(LEGACY_HASHES['pbkdf2-sha256 (passlib)']?.[0]?.[1] as string)).toBe(
      true,
    );
    expect(() =>
      createPasswordHasher({ algorithm: 'pbkdf2-sha256', pbkdf2Rounds: 120_000 }),
    ).toThrow(/600000/);

    const shared = createPasswordHasher({ algorithm: 'bcrypt-sha256', bcryptCost: 10 });
    const pre = await shared.hash(LONG_PASSWORD);
    expect(pre).toMatch(/^\$bcrypt-sha256\$v=2,t=2b,r=10\$/);
    expect(await shared.verify(LONG_PASSWORD, pre)).toEqual({ valid: true, needsRehash: false });
    expect((await shared.verify(`${LONG_PASSWORD.slice(0, 72)}other`, pre)).valid).toBe(false);
  });

  it('asks to rehash passlib bcrypt-sha256 v1 and $2a$ hashes even at the current cost', async () => {
    const policy = createPasswordHasher({ algorithm: 'bcrypt-sha256', bcryptCost: 10 });
    // passlib's formats at cost 10, made with the bcrypt binding (the cost-4 vectors above are
    // passlib's own): v1 pre-hashes with plain SHA-256, v2 with HMAC-SHA256 keyed by the salt.
    const made = async (version: 1 | 2, ident: 'a' | 'b') => {
      const settings = await bcrypt.genSalt(10, ident);
      const salt = settings.slice(7, 29);
      const digest =
        version === 1
          ? createHash('sha256').update(PASSWORD).digest('base64')
          : createHmac('sha256', salt).update(PASSWORD).digest('base64');
      const checksum = (await bcrypt.hash(digest, settings)).slice(29);
      const params = version === 1 ? `2${ident},10` : `v=2,t=2${ident},r=10`;
      return `$bcrypt-sha256$${params}$${salt}$${checksum}`;
    };
    const current = await made(2, 'b');
    expect(await policy.verify(PASSWORD, current)).toEqual({ valid: true, needsRehash: false });
    for (const legacy of [await made(1, 'b'), await made(1, 'a'), await made(2, 'a')]) {
      expect(await policy.verify(PASSWORD, legacy)).toEqual({ valid: true, needsRehash: true });
      expect(policy.needsRehash(legacy)).toBe(true);
    }
  });

  it('refuses unknown, malformed and hostile stored hashes without echoing them', async () => {
    const cases = [
      'plaintext-password',
      '$md5$abc',
      '$2b$04$tooShort',
      '$2b$99$LST2eVcTHQuIUujPGRtmyumnKjLTkdqNfkBNaW3z0CpzaD9T42WXu',
      '$scrypt$ln=30,r=8,p=1$O8c4B0Co1XrPOccYI2SMEQ$Rv+yQkBuzvDtN+X/5d8U4WQLJJZoXHsBgekrDRc+8+w',
      '$pbkdf2-sha256$99999999$DyGkNIbwfs/Zm/N.r5USYg$p4r1mbaiHCFv83NR6YaKPbp5TRTxdYYOlfAcNnn14pQ',
      '$custos-pepper$id=../x$argon2id$',
      '',
    ];
    for (const stored of cases) {
      const err = await verifyPassword(PASSWORD, stored).catch((e: Error) => e);
      expect(err, stored).toMatchObject({ code: 'ERR_PASSWORD_HASH_UNSUPPORTED' });
      if (stored.length > 8) expect(String((err as Error).message)).not.toContain(stored);
    }
  });
});

describe('peppers', () => {
  const p1 = randomBytes(32);
  const p2 = new Secret(randomBytes(32).toString('base64'));

  it('HMACs with the current pepper and stores its id; verifies old ids; rotates on login', async () => {
    const before = createPasswordHasher({ peppers: { currentId: 'p1', peppers: { p1 } } });
    const stored = await before.hash(PASSWORD);
    expect(stored).toMatch(/^\$custos-pepper\$id=p1\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await before.verify(PASSWORD, stored)).toEqual({ valid: true, needsRehash: false });

    // Without the pepper the hash is useless: a stolen database alone cannot be cracked.
    await expect(verifyPassword(PASSWORD, stored)).rejects.toMatchObject({
      code: 'ERR_PEPPER_UNKNOWN',
    });
    const inner = stored.replace('$custos-pepper$id=p1', '');
    expect((await verifyPassword(PASSWORD, inner)).valid).toBe(false);

    const after = createPasswordHasher({ peppers: { currentId: 'p2', peppers: { p1, p2 } } });
    expect(await after.verify(PASSWORD, stored)).toEqual({ valid: true, needsRehash: true });
    const rehashed = await after.hash(PASSWORD);
    expect(rehashed).toMatch(/^\$custos-pepper\$id=p2\$/);
    // An unpeppered hash is flagged once peppers are configured.
    expect(after.needsRehash(await hashPassword(PASSWORD))).toBe(true);
    const dropped = createPasswordHasher({ peppers: { currentId: 'p2', peppers: { p2 } } });
    await expect(dropped.verify(PASSWORD, stored)).rejects.toThrow(/pepper "p1" is not configured/);
  });

  it('refuses short peppers and a missing current id, never printing the value', () => {
    const short = 'CANARY-short-pepper';
    const err = (() => {
      try {
        createPasswordHasher({ peppers: { currentId: 'a', peppers: { a: short } } });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toMatchObject({ code: 'ERR_WEAK_SECRET' });
    expect(`${err?.message} ${inspect(err)}`).not.toContain(short);
    expect(() => createPasswordHasher({ peppers: { currentId: 'b', peppers: { a: p1 } } })).toThrow(
      /current pepper "b"/,
    );
  });

  it('with requirePepper, refuses a hash made without a pepper (a planted known password)', async () => {
    const peppers = { currentId: 'p1', peppers: { p1 } };
    const strict = createPasswordHasher({ peppers, requirePepper: true });
    const peppered = await strict.hash(PASSWORD);
    expect(await strict.verify(PASSWORD, peppered)).toEqual({ valid: true, needsRehash: false });
    // Someone who can write the users table stores a hash of a password they know.
    const planted = await hashPassword('attacker-knows-this');
    await expect(strict.verify('attacker-knows-this', planted)).rejects.toMatchObject({
      code: 'ERR_PEPPER_REQUIRED',
      message: expect.not.stringContaining('attacker-knows-this'),
    });
    // While migrating (the default), unpeppered hashes still verify and ask for a rehash.
    const migrating = createPasswordHasher({ peppers });
    expect(await migrating.verify('attacker-knows-this', planted)).toEqual({
      valid: true,
      needsRehash: true,
    });
    expect(() => createPasswordHasher({ requirePepper: true })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(/requirePepper/),
      }),
    );
  });
});
