import { describe, expect, it } from 'vitest';
import { decodedRange, judgedText } from './rule.js';

// `oneByteText` writes `é` as U+00B7 and U+3000 as U+00A0: the same offsets, other characters.
const decoded = 'greeting = "s\u00e9cret\u3000value"';
const oneByte = 'greeting = "s\u00b7cret\u00a0value"';

describe('judgedText', () => {
  it('reads the text itself when it holds no stand-ins, or when there is no decoded text', () => {
    const context = {
      decoded: () => {
        throw new Error('decoded without need');
      },
    };
    expect(judgedText(oneByte, 0, 8, context)).toBe('greeting');
    expect(judgedText(oneByte, 12, 24)).toBe('s\u00b7cret\u00a0value');
  });

  it('reads a stretch holding stand-ins from the decoded text, by slice when the scanner offers one', () => {
    const slices: Array<[number, number]> = [];
    const bySlice = {
      decoded: () => {
        throw new Error('decoded whole although a slice was offered');
      },
      decodedSlice: (start: number, end: number) => {
        slices.push([start, end]);
        return decoded.slice(start, end);
      },
    };
    expect(judgedText(oneByte, 12, 24, bySlice)).toBe('s\u00e9cret\u3000value');
    expect(slices).toEqual([[12, 24]]);
    expect(judgedText(oneByte, 12, 24, { decoded: () => decoded })).toBe('s\u00e9cret\u3000value');
  });
});

describe('decodedRange', () => {
  it('slices the decoded text, through decodedSlice when there is one', () => {
    expect(decodedRange({}, 13, 19, () => decoded)).toBe('\u00e9cret\u3000');
    expect(
      decodedRange({ decodedSlice: (start, end) => `[${start},${end}]` }, 13, 19, () => decoded),
    ).toBe('[13,19]');
  });
});
