import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nearMisses, positives } from '../../test/rule-examples.js';
import { defaultRules } from '../rules/catalog.js';
import type { Rule } from '../rules/rule.js';
import { prefilterFor } from './prefilter.js';
import { scanBytes, scanText } from './scan-text.js';

const escapeRegex = (keyword: string) => keyword.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * What the prefilter must give, by its definition: the built-in rules with a keyword that
 * `/keyword/i` finds in the text (or none), each searching the text itself. (A keyword is part
 * of a rule: a Mailgun-shaped value without the word Mailgun is no finding.)
 */
function byDefinition(text: string): Rule[] {
  return defaultRules
    .filter(
      (rule) =>
        rule.keywords.length === 0 ||
        rule.keywords.some((keyword) => new RegExp(escapeRegex(keyword), 'i').test(text)),
    )
    .map((rule) => ({ ...rule, keywords: [] }));
}

const planted = positives.map((example) => example.text());
const lookAlikes = nearMisses.map(([, text]) => text());
const noise = [
  'é',
  'ſ',
  'K',
  'İ',
  '中文',
  '😀',
  '\u00a0',
  '\u2028',
  '\n',
  ' = ',
  ': ',
  '"',
  'const apiKey = getKey();',
  'PASSWORD',
  'my_secret_token',
  'Bearer ',
  '<password>',
];
const piece = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...planted) },
  { weight: 1, arbitrary: fc.constantFrom(...lookAlikes) },
  { weight: 4, arbitrary: fc.constantFrom(...noise) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
);
const text = fc
  .array(fc.tuple(piece, fc.constantFrom('', ' ', '\n')), { maxLength: 24 })
  .map((parts) => parts.map(([p, separator]) => p + separator).join(''));
const name = fc.constantFrom('config/settings', '.env', 'src/app.ts', 'deploy.yaml');

describe('the prefilter', () => {
  it('finds what the rules whose keywords occur find, searching the text themselves', () => {
    const rules = new Set<string>();
    fc.assert(
      fc.property(text, name, (content, file) => {
        const everything = scanText(content, { name: file, rules: byDefinition(content) });
        expect(scanText(content, { name: file })).toEqual(everything);
        const decoded = Buffer.from(content).toString('utf8');
        expect(scanBytes(Buffer.from(content), { name: file })).toEqual(
          scanText(decoded, { name: file, rules: byDefinition(decoded) }),
        );
        for (const finding of everything) rules.add(finding.rule);
      }),
      { numRuns: 300 },
    );
    // Planted secrets of (nearly) every rule were found along the way.
    expect(rules.size).toBeGreaterThanOrEqual(new Set(positives.map((p) => p.rule)).size - 2);
  });

  it('chooses for each stretch of a text what it chooses for that stretch alone, with or without an automaton', () => {
    // A keyword above ASCII: that set is searched by a regular expression, not an automaton.
    const nonAscii: Rule[] = [
      ...defaultRules.slice(0, 5),
      { ...(defaultRules[0] as Rule), id: 'umlaut', keywords: ['schlüssel'] },
    ];
    fc.assert(
      fc.property(text, fc.nat(), fc.nat(), (sample, a, b) => {
        const [from, to] = [a % (sample.length + 1), b % (sample.length + 1)].sort(
          (x, y) => x - y,
        ) as [number, number];
        for (const rules of [defaultRules, nonAscii]) {
          const prefilter = prefilterFor(rules);
          const alone = prefilter.select(sample.slice(from, to));
          const { whole, parts } = prefilter.selectEach(sample, [{ from, to }]);
          expect(parts).toHaveLength(1);
          expect(parts[0]?.rules).toEqual(alone.rules);
          const keywords = [...new Set(alone.rules.flatMap((rule) => rule.keywords))];
          expect(parts[0]?.keywordMatches?.(keywords)).toEqual(alone.keywordMatches?.(keywords));
          const all = prefilter.select(sample);
          expect(whole.rules).toEqual(all.rules);
          const allKeywords = [...new Set(all.rules.flatMap((rule) => rule.keywords))];
          expect(whole.keywordMatches?.(allKeywords)).toEqual(all.keywordMatches?.(allKeywords));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('tells rules where their keywords are, case-blind', () => {
    const { rules, keywordMatches } = prefilterFor(defaultRules).select('A Token; the KEY');
    expect(rules.map((rule) => rule.id)).toContain('secret-assignment');
    expect(keywordMatches?.(['token', 'key'])).toEqual([
      { start: 2, end: 7 },
      { start: 13, end: 16 },
    ]);
  });
});
