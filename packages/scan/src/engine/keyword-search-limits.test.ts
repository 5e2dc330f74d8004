import { describe, expect, it } from 'vitest';
import { createKeywordSearch } from './keyword-search.js';

describe('createKeywordSearch limits', () => {
  it('keeps every occurrence of a keyword that occurs hundreds of times', () => {
    const text = 'Key '.repeat(700);
    const hits = createKeywordSearch(['key', 'token'])?.search(text);
    expect(hits?.found).toEqual(new Set(['key']));
    expect(hits?.matches(['KEY'])).toEqual(
      Array.from({ length: 700 }, (_, i) => ({ start: i * 4, end: i * 4 + 3 })),
    );
    expect(hits?.matches(['token'])).toEqual([]);
  });

  it('keeps every occurrence where one character ends hundreds of keywords', () => {
    // `b`, `ab`, `aab`, …: the `b` of the text ends all 800 at once, more pairs than the hits
    // hold at first (256) and than twice that.
    const keywords = Array.from({ length: 800 }, (_, i) => `${'a'.repeat(i)}b`);
    const text = `${'a'.repeat(799)}b`;
    const hits = createKeywordSearch(keywords)?.search(text);
    expect(hits?.found).toEqual(new Set(keywords));
    const matches = hits?.matches(keywords);
    expect(matches).toEqual(Array.from({ length: 800 }, (_, start) => ({ start, end: 800 })));
    expect(hits?.within(700, 800).matches(['b', 'ab', `${'a'.repeat(99)}b`])).toEqual([
      { start: 0, end: 100 },
      { start: 98, end: 100 },
      { start: 99, end: 100 },
    ]);
  });

  it('takes keywords of ASCII only (up to U+007F)', () => {
    expect(createKeywordSearch(['key\u0080'])).toBeNull();
    expect(createKeywordSearch(['key', 'ÿ'])).toBeNull();
    expect(createKeywordSearch(['key\u007f'])?.search('KEY\u007f').found).toEqual(
      new Set(['key\u007f']),
    );
  });

  it('folds every upper-case ASCII letter, A to Z', () => {
    const hits = createKeywordSearch(['az', 'qq'])?.search('AZ Az aZ [Z@A');
    expect(hits?.matches(['az'])).toEqual([
      { start: 0, end: 2 },
      { start: 3, end: 5 },
      { start: 6, end: 8 },
    ]);
  });

  it('names the keyword it was not built with', () => {
    const hits = createKeywordSearch(['key'])?.search('key');
    expect(() => hits?.matches(['key', 'Token'])).toThrow(
      new RangeError('the keyword "Token" was not searched for'),
    );
  });

  it('orders two occurrences found in the reverse order', () => {
    expect(createKeywordSearch(['abcd', 'bc'])?.search('abcd').matches(['abcd', 'bc'])).toEqual([
      { start: 0, end: 4 },
      { start: 1, end: 3 },
    ]);
  });

  it('reads nothing past the end of the text', () => {
    // A keyword that would go on with U+0000 is not found where the text ends.
    const hits = createKeywordSearch(['key\u0000', 'key'])?.search('key');
    expect(hits?.found).toEqual(new Set(['key']));
  });

  it('orders overlapping occurrences by start, then end', () => {
    const hits = createKeywordSearch(['abcd', 'bc', 'b', 'abc'])?.search('xabcd');
    expect(hits?.matches(['abcd', 'bc', 'b', 'abc'])).toEqual([
      { start: 1, end: 4 },
      { start: 1, end: 5 },
      { start: 2, end: 3 },
      { start: 2, end: 4 },
    ]);
  });
});
