import { createSecretKey, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeAssociatedData } from './associated-data.js';
import { DerivedKeyCache, hkdfSha256 } from './hkdf.js';
import { constantTimeEqual, hmacSha256 } from './hmac.js';
import { generateSecret } from './random.js';

describe('generateSecret', () => {
  it.each([
    ['hex', /^[0-9a-f]{64}$/, 256],
    ['base64', /^[A-Za-z0-9+/]{43}=$/, 256],
    ['base64url', /^[A-Za-z0-9_-]{43}$/, 256],
    ['alphanumeric', /^[A-Za-z0-9]{43}$/, 256],
  ] as const)('%s: 32 bytes of entropy by default', (encoding, pattern, bits) => {
    const { secret, entropyBits } = generateSecret({ encoding });
    expect(secret.reveal()).toMatch(pattern);
    expect(entropyBits).toBe(bits);
    expect(String(secret)).toBe('[REDACTED]');
  });

  it('states the entropy of an alphanumeric secret of a given length', () => {
    const { secret, entropyBits } = generateSecret({ encoding: 'alphanumeric', length: 20 });
    expect(secret.reveal()).toHaveLength(20);
    expect(entropyBits).toBe(Math.floor(20 * Math.log2(62)));
  });

  it('draws alphanumeric characters uniformly (no modulo bias)', () => {
    const counts = new Map<string, number>();
    const text =
      generateSecret({ encoding: 'alphanumeric', length: 4096 }).secret.reveal() +
      generateSecret({ encoding: 'alphanumeric', length: 4096 }).secret.reveal() +
      generateSecret({ encoding: 'alphanumeric', length: 4096 }).secret.reveal();
    for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // Chi-squared with 61 degrees of freedom; 120 is far beyond the 99.99th percentile (~110).
    const expected = text.length / 62;
    let chi = 0;
    for (const n of counts.values()) chi += (n - expected) ** 2 / expected;
    expect(chi).toBeLessThan(120);
  });

  it('refuses nonsense sizes and encodings', () => {
    expect(() => generateSecret({ bytes: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => generateSecret({ encoding: 'hex', length: 4 })).toThrow(/alphanumeric/);
    expect(() => generateSecret({ encoding: 'rot13' as 'hex' })).toThrow(/encoding/);
  });
});

describe('constantTimeEqual and hmacSha256', () => {
  it('compares equal and unequal values of equal and different lengths', () => {
    fc.assert(
      fc.property(fc.uint8Array(), fc.uint8Array(), (a, b) => {
        expect(constantTimeEqual(a, b)).toBe(Buffer.from(a).equals(Buffer.from(b)));
        expect(constantTimeEqual(a, Uint8Array.from(a))).toBe(true);
      }),
    );
    expect(constantTimeEqual('token', 'token')).toBe(true);
    expect(constantTimeEqual('token', 'tokem')).toBe(false);
  });

  it('HMAC-SHA256 matches RFC 4231 test case 2', () => {
    expect(hmacSha256('Jefe', 'what do ya want for nothing?').toString('hex')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
});

describe('DerivedKeyCache', () => {
  it('returns the HKDF output, computes it once, and evicts least recently used', () => {
    const source = createSecretKey(randomBytes(32));
    const cache = new DerivedKeyCache<Buffer>(2);
    let builds = 0;
    const build = (b: Buffer) => {
      builds++;
      return b;
    };
    const a = cache.derive(source, 'a', {}, build);
    expect(a.equals(hkdfSha256(source, 'a'))).toBe(true);
    expect(cache.derive(source, 'a', {}, build)).toBe(a);
    expect(builds).toBe(1);
    cache.derive(source, 'b', {}, build);
    cache.derive(source, 'a', {}, build); // a is now most recent
    cache.derive(source, 'c', {}, build); // evicts b
    expect(builds).toBe(3);
    cache.derive(source, 'a', {}, build);
    expect(builds).toBe(3);
    cache.derive(source, 'b', {}, build);
    expect(builds).toBe(4);
  });

  it('keeps derivations of different sources, salts, lengths and infos apart', () => {
    const s1 = createSecretKey(randomBytes(32));
    const s2 = createSecretKey(randomBytes(32));
    const cache = new DerivedKeyCache<Buffer>();
    const id = (b: Buffer) => b;
    const outputs = [
      cache.derive(s1, 'x', {}, id),
      cache.derive(s2, 'x', {}, id),
      cache.derive(s1, 'x', { salt: 's' }, id),
      cache.derive(s1, 'x', { length: 16 }, id),
      cache.derive(s1, Buffer.from('x'), { length: 64 }, id),
    ].map((b) => b.toString('hex'));
    expect(new Set(outputs).size).toBe(outputs.length);
  });

  it('refuses impossible lengths', () => {
    expect(() => hkdfSha256('k', 'i', { length: 9000 })).toThrow(/1\.\.8160/);
  });
});

describe('encodeAssociatedData', () => {
  it('does not depend on field order and omits undefined fields', () => {
    expect(
      encodeAssociatedData({ a: '1', b: 2 }).equals(encodeAssociatedData({ b: 2, a: '1' })),
    ).toBe(true);
    expect(
      encodeAssociatedData({ a: '1', b: undefined }).equals(encodeAssociatedData({ a: '1' })),
    ).toBe(true);
  });

  it('is injective: different records never encode alike', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^[a-z]{1,3}$/), fc.string({ maxLength: 5 })),
        fc.dictionary(fc.stringMatching(/^[a-z]{1,3}$/), fc.string({ maxLength: 5 })),
        (x, y) => {
          const same =
            JSON.stringify(Object.entries(x).sort()) === JSON.stringify(Object.entries(y).sort());
          expect(encodeAssociatedData(x).equals(encodeAssociatedData(y))).toBe(same);
        },
      ),
    );
  });

  it('keeps records and raw bytes apart, and refuses bad fields without echoing values', () => {
    const record = encodeAssociatedData({ a: 'b' });
    expect(record.equals(encodeAssociatedData(record.subarray(0)))).toBe(true); // bytes are bytes
    expect(record.equals(encodeAssociatedData('ab'))).toBe(false);
    expect(() => encodeAssociatedData({ 'bad key': 'x' })).toThrow(/field names/);
    expect(() => encodeAssociatedData({ n: Number.NaN })).toThrow(/"n" is not finite/);
    expect(() => encodeAssociatedData({ o: {} as string })).toThrow(/"o" must be a string/);
    expect(inspect(encodeAssociatedData(undefined))).toContain('Buffer');
  });
});
