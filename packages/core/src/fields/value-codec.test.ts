import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FieldValue } from './types.js';
import { decodeFieldValue, encodeFieldValue } from './value-codec.js';

const roundTrip = (value: FieldValue, blockBytes?: number) =>
  decodeFieldValue(encodeFieldValue(value, blockBytes === undefined ? undefined : { blockBytes }));

describe('field value encoding', () => {
  it('round-trips every supported type with its type', () => {
    const bytes = Uint8Array.of(0, 1, 2, 255);
    const cases: FieldValue[] = [
      '',
      'Jane Doe',
      'Zoë 🩺 患者',
      0,
      -0,
      42,
      -1.5e-300,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.MAX_SAFE_INTEGER,
      123456789012345678901234567890n,
      -5n,
      true,
      false,
      new Date('1990-04-01T12:34:56.789Z'),
      new Date(-8.64e15),
      null,
      [],
      [1, 'two', { three: 3 }],
      { name: 'Jane', tags: ['a'], nested: { ok: true, n: null } },
    ];
    for (const value of cases) {
      for (const block of [undefined, 16, 256]) {
        const back = roundTrip(value, block);
        if (typeof value === 'number' && Number.isNaN(value)) expect(back).toBeNaN();
        else expect(back).toStrictEqual(value);
      }
    }
    const back = roundTrip(bytes);
    expect(Buffer.isBuffer(back)).toBe(true);
    expect([...(back as Buffer)]).toEqual([0, 1, 2, 255]);
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
  });

  it('keeps types apart: "42", 42, 42n and true are different plaintexts', () => {
    const encodings = ['42', 42, 42n, true, [42], new Date(42)].map((v) =>
      encodeFieldValue(v).toString('hex'),
    );
    expect(new Set(encodings).size).toBe(encodings.length);
  });

  it('pads to a multiple of the block size, so lengths fall into buckets', () => {
    for (let n = 0; n < 70; n++) {
      const encoded = encodeFieldValue('x'.repeat(n), { blockBytes: 32 });
      expect(encoded.length % 32).toBe(0);
      expect(encoded.length).toBe(Math.ceil((n + 2) / 32) * 32);
    }
  });

  it('round-trips arbitrary strings, bytes and JSON (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.integer({ min: 2, max: 64 }), (s, block) => {
        expect(roundTrip(s, block)).toBe(s);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array(), (bytes) => {
        expect(Buffer.compare(roundTrip(bytes) as Buffer, Buffer.from(bytes))).toBe(0);
      }),
    );
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const normalized = JSON.parse(JSON.stringify(value)) as FieldValue;
        if (typeof normalized === 'object') expect(roundTrip(normalized)).toStrictEqual(normalized);
      }),
    );
    fc.assert(
      fc.property(fc.double(), (n) => {
        expect(Object.is(roundTrip(n), n)).toBe(true);
      }),
    );
  });

  it('refuses values it cannot bring back faithfully', () => {
    class Patient {
      name = 'x';
    }
    for (const bad of [
      undefined,
      () => 1,
      Symbol('s'),
      new Date(Number.NaN),
      new Patient(),
      new Map(),
    ]) {
      expect(() => encodeFieldValue(bad as unknown as FieldValue)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
    expect(() => encodeFieldValue('x', { blockBytes: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('rejects broken plaintexts (unknown tag, bad padding, wrong lengths)', () => {
    for (const hex of ['', '7f', '8100', '810000', '02aa', '0302', 'aa']) {
      expect(() => decodeFieldValue(Buffer.from(hex, 'hex'))).toThrow(
        expect.objectContaining({ code: 'ERR_MALFORMED_CIPHERTEXT' }),
      );
    }
  });
});
