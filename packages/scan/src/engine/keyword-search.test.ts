import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultRules } from '../rules/catalog.js';
import { createKeywordSearch, type KeywordMatch } from './keyword-search.js';

const escapeRegex = (keyword: string) => keyword.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** What `/keyword/i` matches at each place of the text: the definition the automaton must meet. */
function oracle(text: string, keywords: readonly string[]): KeywordMatch[] {
  const matches: KeywordMatch[] = [];
  for (const keyword of new Set(keywords.map((k) => k.toLowerCase()))) {
    const sticky = new RegExp(escapeRegex(keyword), 'iy');
    for (let at = 0; at < text.length; at++) {
      sticky.lastIndex = at;
      if (sticky.test(text)) matches.push({ start: at, end: at + keyword.length });
    }
  }
  return matches.sort((a, b) => a.start - b.start || a.end - b.end);
}

const ruleKeywords = [...new Set(defaultRules.flatMap((rule) => rule.keywords))];
/** Characters that are letters' neighbours or look-alikes in some case mapping. */
const tricky = ['ſ', 'K', 'İ', 'ı', 'ß', 'é', 'É', '\u00b7', '中', '😀', '\u0130', '[', '`', '@'];

const keyword = fc.oneof(
  fc.constantFrom(...ruleKeywords),
  fc.string({
    unit: fc.constantFrom('a', 'b', 'A', 'B', '_', '.', '-'),
    minLength: 1,
    maxLength: 4,
  }),
);
/** Keywords in any case, overlapping and inside one another, among look-alike characters. */
const textOf = (keywords: readonly string[]) =>
  fc
    .array(
      fc.oneof(
        fc
          .constantFrom(...keywords)
          .chain((k) =>
            fc
              .array(fc.boolean(), { minLength: k.length, maxLength: k.length })
              .map((upper) =>
                [...k].map((c, i) => (upper[i] ? c.toUpperCase() : c.toLowerCase())).join(''),
              ),
          ),
        fc.constantFrom(...tricky),
        fc.string({ unit: 'binary', maxLength: 3 }),
      ),
      { maxLength: 30 },
    )
    .map((parts) => parts.join(''));

describe('createKeywordSearch', () => {
  it('tells what lies within a stretch exactly as a search of that stretch alone would', () => {
    // Stretches holding a match: 82 of 300 on average over 300 seeds (σ 7.4, fewest 59), so
    // the bound below says the property met matches without failing on an unlucky seed.
    let withMatches = 0;
    fc.assert(
      fc.property(
        fc
          .array(keyword, { minLength: 1, maxLength: 12 })
          .chain((keywords) =>
            fc.tuple(fc.constant(keywords), textOf(keywords), fc.nat(), fc.nat(), fc.nat()),
          ),
        ([keywords, text, a, b, c]) => {
          const search = createKeywordSearch(keywords);
          const [from, to] = [a % (text.length + 1), b % (text.length + 1)].sort((x, y) => x - y);
          const part = search?.search(text).within(from as number, to as number);
          const alone = search?.search(text.slice(from, to));
          expect(part?.found).toEqual(alone?.found);
          expect(part?.matches(keywords)).toEqual(alone?.matches(keywords));
          // A stretch of a stretch: offsets from the inner one's start.
          const inner = (c % ((to as number) - (from as number) + 1)) as number;
          expect(part?.within(inner, text.length).matches(keywords)).toEqual(
            search?.search(text.slice((from as number) + inner, to)).matches(keywords),
          );
          if ((alone?.matches(keywords).length ?? 0) > 0) withMatches++;
        },
      ),
      { numRuns: 300 },
    );
    expect(withMatches).toBeGreaterThan(30);
  });

  it('finds every occurrence /i finds, and no other, for any keywords and text', () => {
    let matched = 0;
    fc.assert(
      fc.property(
        fc
          .array(keyword, { minLength: 1, maxLength: 12 })
          .chain((keywords) => fc.tuple(fc.constant(keywords), textOf(keywords))),
        ([keywords, text]) => {
          const hits = createKeywordSearch(keywords)?.search(text);
          const expected = oracle(text, keywords);
          expect(hits?.matches(keywords)).toEqual(expected);
          const occurring = keywords
            .map((k) => k.toLowerCase())
            .filter((k) => oracle(text, [k]).length > 0);
          expect(hits?.found).toEqual(new Set(occurring));
          // A subset of the keywords: only theirs.
          const some = keywords.slice(0, 1);
          expect(hits?.matches(some)).toEqual(oracle(text, some));
          matched += expected.length;
        },
      ),
      { numRuns: 300 },
    );
    expect(matched).toBeGreaterThan(300);
  });

  it('declines keywords only a regular expression can judge, and refuses unknown ones', () => {
    expect(createKeywordSearch(['clé'])).toBeNull();
    expect(createKeywordSearch([''])).toBeNull();
    const hits = createKeywordSearch(['key'])?.search('KEY');
    expect(() => hits?.matches(['token'])).toThrow(RangeError);
  });
});
