import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { printable } from './printable.js';

/** What a terminal acts on instead of showing (see printable.ts). */
const acted = (code: number) =>
  code < 0x20 ||
  (code >= 0x7f && code <= 0x9f) ||
  code === 0x2028 ||
  code === 0x2029 ||
  (code >= 0x202a && code <= 0x202e) ||
  (code >= 0x2066 && code <= 0x2069);

describe('printable', () => {
  it('escapes every character a terminal acts on, and nothing else', () => {
    for (let code = 0; code < 0x2100; code++) {
      const character = String.fromCharCode(code);
      const expected = acted(code)
        ? code < 0x100
          ? `\\x${code.toString(16).padStart(2, '0')}`
          : `\\u${code.toString(16)}`
        : character;
      expect(printable(`a${character}b`)).toBe(`a${expected}b`);
    }
  });

  it('leaves no such character in any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect([...printable(text)].some((c) => acted(c.charCodeAt(0)))).toBe(false);
      }),
    );
  });
});
