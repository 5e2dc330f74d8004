import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { Utf8Ranges } from './utf8-ranges.js';

// Characters of every UTF-8 length, and runs of ASCII long enough to be stepped over whole.
const piece = fc.oneof(
  // Each lead byte's edges: U+0080 (C2), U+07FF (DF), U+0800 (E0), U+FFFF (EF), U+10000 (F0).
  fc.constantFrom('a', 'Z', '\n', ' ', 'é', 'ÿ', '—', '€', '\u2000', '𝄞', '😀', '中'),
  fc.constantFrom('\u0080', '\u07ff', '\u0800', '\u0fff', '\uffff', '\u{10000}', '\u{10ffff}'),
  fc.string({ unit: 'binary', maxLength: 4 }),
  fc.integer({ min: 1, max: 9000 }).map((n) => 'x'.repeat(n)),
);
const text = fc.array(piece, { maxLength: 12 }).map((pieces) => pieces.join(''));

describe('Utf8Ranges', () => {
  it('gives what slicing the decoded text gives, for any offsets asked in any order', () => {
    fc.assert(
      fc.property(
        text,
        fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 8 }),
        (decoded, asks) => {
          const ranges = new Utf8Ranges(Buffer.from(decoded, 'utf8'));
          const limit = decoded.length + 2;
          for (const [a, b] of asks) {
            const from = a % limit;
            const to = b % limit;
            expect(ranges.slice(from, to)).toBe(decoded.slice(from, to));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('cuts a character outside the Basic Multilingual Plane where the decoded text does', () => {
    const decoded = `${'x'.repeat(5000)}a😀b𝄞`;
    const ranges = new Utf8Ranges(Buffer.from(decoded, 'utf8'));
    // Offsets 5001-5002 are the two halves of 😀, 5004-5005 those of 𝄞.
    for (const [from, to] of [
      [5001, 5002],
      [5002, 5004],
      [5000, 5005],
      [5002, 5006],
      [4999, 5003],
    ] as const)
      expect(ranges.slice(from, to)).toBe(decoded.slice(from, to));
  });

  it('reads a view of a larger buffer only within the view', () => {
    const whole = Buffer.from('before—é€after');
    const view = whole.subarray(6, whole.length - 5); // 'é€' ... within the bytes of 'before—'
    const decoded = view.toString('utf8');
    const ranges = new Utf8Ranges(view);
    expect(ranges.slice(0, decoded.length)).toBe(decoded);
    expect(ranges.slice(1, 2)).toBe(decoded.slice(1, 2));
  });

  it('decodes only the bytes of the characters it returns (a pair cut in half: that pair)', () => {
    const decodedBytes = (text: string, from: number, to: number) => {
      const ranges = new Utf8Ranges(Buffer.from(text, 'utf8'));
      const decode = vi.spyOn(Buffer.prototype, 'toString');
      try {
        const slice = ranges.slice(from, to);
        expect(slice).toBe(text.slice(from, to));
        const [[, start, end]] = decode.mock.calls as [[string, number, number]];
        expect(decode).toHaveBeenCalledTimes(1);
        return end - start;
      } finally {
        decode.mockRestore();
      }
    };
    const tail = 'y'.repeat(100);
    expect(decodedBytes(`abc${tail}`, 0, 1)).toBe(1);
    expect(decodedBytes(`a€b${tail}`, 1, 2)).toBe(3);
    // The end falls inside 😀: its four bytes are decoded, and nothing after them.
    expect(decodedBytes(`a😀b${tail}`, 0, 2)).toBe(5);
    expect(decodedBytes(`a😀b${tail}`, 2, 3)).toBe(4);
  });
});
