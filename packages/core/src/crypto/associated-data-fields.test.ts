import { describe, expect, it } from 'vitest';
import { aeadParameters, algorithmById, createAeadKey, isAeadAlgorithm } from './aead.js';
import { encodeAssociatedData } from './associated-data.js';

const invalid = (message: string) =>
  expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message });

describe('associated data records', () => {
  it('accepts field names of 1 to 64 characters of the allowed set, and refuses others', () => {
    for (const name of ['a', 'Z9', 'a_b.c-d', 'n'.repeat(64)]) {
      expect(encodeAssociatedData({ [name]: 'v' }).subarray(1, 2)[0], name).toBe(name.length);
    }
    for (const name of ['', 'n'.repeat(65), 'a b', 'é', 'a/b', 'a:b']) {
      expect(() => encodeAssociatedData({ [name]: 'v' }), name).toThrow(
        invalid('associated data field names must be 1-64 characters of A-Z a-z 0-9 _ . -'),
      );
    }
  });

  it('encodes strings, finite numbers and bigints by their text, and refuses other values', () => {
    const asText = encodeAssociatedData({ row: '42' });
    expect(encodeAssociatedData({ row: 42 }).equals(asText)).toBe(true);
    expect(encodeAssociatedData({ row: 42n }).equals(asText)).toBe(true);
    expect(encodeAssociatedData({ row: -0.5 }).equals(encodeAssociatedData({ row: '-0.5' }))).toBe(
      true,
    );
    for (const value of [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN]) {
      expect(() => encodeAssociatedData({ row: value }), String(value)).toThrow(
        invalid('associated data field "row" is not finite'),
      );
    }
    for (const value of [true, null, {}, ['1']]) {
      expect(() => encodeAssociatedData({ row: value as never }), String(value)).toThrow(
        invalid('associated data field "row" must be a string, number or bigint'),
      );
    }
  });

  it('refuses associated data that is neither bytes, a string nor a record', () => {
    for (const value of [null, 42, true]) {
      expect(() => encodeAssociatedData(value as never), String(value)).toThrow(
        invalid('associated data must be bytes, a string or a record'),
      );
    }
  });

  it('takes a byte view at its offset, as it is', () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3]);
    const encoded = encodeAssociatedData(backing.subarray(2));
    expect([...encoded]).toEqual([1, 2, 3]);
    expect(encodeAssociatedData('')).toHaveLength(0);
    expect(encodeAssociatedData({})).toEqual(Buffer.of(0xad));
  });
});

describe('AEAD keys', () => {
  it('needs exactly 32 bytes of material for a known algorithm', () => {
    for (const length of [31, 33, 0]) {
      expect(() => createAeadKey('aes-256-gcm', Buffer.alloc(length)), String(length)).toThrow(
        invalid(`aes-256-gcm needs a 32-byte key, got ${length} bytes`),
      );
    }
    expect(() => createAeadKey('aes-128-gcm' as never, Buffer.alloc(32))).toThrow(
      invalid('unknown AEAD algorithm'),
    );
  });

  it('keeps raw bytes on the JS heap only for the algorithm implemented in JS', () => {
    const material = Buffer.alloc(32, 3);
    expect(createAeadKey('aes-256-gcm', material).raw).toBeUndefined();
    expect(createAeadKey('chacha20-poly1305', material).raw).toBeUndefined();
    const siv = createAeadKey('aes-256-gcm-siv', material);
    expect(Buffer.from(siv.raw as Uint8Array).equals(material)).toBe(true);
    material.fill(0);
    // A copy: wiping the caller's buffer leaves the key usable.
    expect(Buffer.from(siv.raw as Uint8Array).equals(Buffer.alloc(32, 3))).toBe(true);
  });

  it('names algorithms only by their own names, read from untrusted input', () => {
    for (const name of Object.keys(aeadParameters)) expect(isAeadAlgorithm(name)).toBe(true);
    // An array whose text is a name, and names every object inherits, are no algorithm.
    for (const value of [
      ['aes-256-gcm'],
      'toString',
      'constructor',
      '__proto__',
      'AES-256-GCM',
      1,
    ]) {
      expect(isAeadAlgorithm(value), String(value)).toBe(false);
    }
    expect([1, 2, 3].map(algorithmById)).toEqual([
      'aes-256-gcm',
      'chacha20-poly1305',
      'aes-256-gcm-siv',
    ]);
    for (const id of [0, 4, 255]) expect(algorithmById(id)).toBeUndefined();
  });
});
