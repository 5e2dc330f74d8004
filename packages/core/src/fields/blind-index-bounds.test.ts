import { describe, expect, it } from 'vitest';
import { Keyring } from '../crypto/index.js';
import { blindIndexVersion } from './blind-index.js';
import { createFieldCipher } from './field-cipher.js';

const email = { table: 'users', column: 'email' } as const;

function cipher() {
  const keyring = new Keyring();
  keyring.createKey('default');
  keyring.createKey('blind-index');
  return createFieldCipher({ keyring });
}

describe('blind index bounds', () => {
  it('keeps from 1 to 256 bits, and refuses 0 and 257 with the rule', () => {
    const fc = cipher();
    const one = new Set(
      Array.from({ length: 64 }, (_, i) => fc.blindIndex(`v${i}`, { ...email, bits: 1 })),
    );
    // One bit: a single byte whose low seven bits are clear, so two indexes at most.
    expect([...one].sort()).toEqual(['b1.AA', 'b1.gA']);
    expect(fc.blindIndex('x', { ...email, bits: 256 })).toMatch(/^b1\.[A-Za-z0-9_-]{43}$/);
    for (const bits of [0, 257]) {
      expect(() => fc.blindIndex('x', { ...email, bits })).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_ARGUMENT',
          message: 'blind index bits must be an integer from 1 to 256',
        }),
      );
    }
  });

  it('needs a normalize function to return a string', () => {
    const fc = cipher();
    const bad = { ...email, normalize: (() => 42) as unknown as (s: string) => string };
    expect(() => fc.blindIndex('Jane', bad)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: 'the normalize function must return a string',
      }),
    );
    // Values that are not strings are never normalised.
    expect(fc.blindIndex(42, bad)).toBe(fc.blindIndex(42, email));
    expect(fc.blindIndex(' Jane ', { ...email, normalize: false })).toBe(
      fc.blindIndex(' Jane ', email),
    );
  });

  it('reads the blind-index key version only from a whole stored index, never from a legacy one', () => {
    expect(blindIndexVersion('b1.AAAAAAAAAAA')).toBe(1);
    expect(blindIndexVersion('b4294967295.q83Jd0aB1cE')).toBe(4294967295);
    expect(blindIndexVersion('b1234567890.x-_')).toBe(1234567890);
    for (const text of [
      'v1.AAAAAAAAAAA', // legacy: derived from an encryption key, needs rewriting
      'B1.abc',
      'b12345678901.abc',
      'xb1.abc',
      ' b1.abc',
      'b1.abc ',
      'b1.ab+c',
      'b1.',
      'b01.abc',
      'b1abc',
      '1.abc',
    ]) {
      expect(blindIndexVersion(text), text).toBeUndefined();
    }
  });
});
