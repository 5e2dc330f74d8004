import { describe, expect, it } from 'vitest';
import { oneByteText } from './one-byte-text.js';

const OTHER = '\u00b7';
const SPACE = '\u00a0';
const of = (text: string) => oneByteText(Buffer.from(text, 'utf8'));

describe('oneByteText stand-ins', () => {
  it('keeps characters up to U+00FF, whatever their UTF-8 length', () => {
    expect(of('a\u0080b')).toBe('a\u0080b');
    expect(of('clé = ü')).toBe('clé = ü');
    expect(of('\u00ff')).toBe('\u00ff');
  });

  it('replaces two-byte characters above U+00FF with one stand-in each', () => {
    expect(of('\u0100x\u0105\u07ff')).toBe(`${OTHER}x${OTHER}${OTHER}`);
  });

  it('replaces every space above U+00FF with U+00A0, and its neighbours with U+00B7', () => {
    const spaces = ['\u1680', '\u2000', '\u2005', '\u200a', '\u202f', '\u205f', '\u3000', '\ufeff'];
    expect(of(`k${spaces.join('k')}k`)).toBe(`k${spaces.map(() => SPACE).join('k')}k`);
    const others = [
      '\u0800',
      '\u167f',
      '\u1681',
      '\u1fff',
      '\u200b',
      '\u202e',
      '\u2030',
      '\u205e',
      '\u2060',
      '\u2fff',
      '\u3001',
      '\ufefe',
      '\uff00',
      '中',
    ];
    expect(of(`k${others.join('k')}k`)).toBe(`k${others.map(() => OTHER).join('k')}k`);
  });

  it('replaces a character outside the Basic Multilingual Plane with two stand-ins', () => {
    expect(of('a😀b')).toBe(`a${OTHER}${OTHER}b`);
    expect(of('\u{10000}\u{10ffff}')).toBe(OTHER.repeat(4));
  });

  it('declines a text with a line or paragraph separator, and no other', () => {
    expect(of('a\u2028b')).toBeUndefined();
    expect(of('é\u2029')).toBeUndefined();
    expect(of('a\u2027\u202ab')).toBe(`a${OTHER}${OTHER}b`);
  });
});
