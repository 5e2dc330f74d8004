import { describe, expect, it } from 'vitest';
import { patternRule, type Rule } from '../rules/rule.js';
import { prefilterFor } from './prefilter.js';

const rule = (id: string, keywords: string[]): Rule =>
  patternRule({
    id,
    description: id,
    source: 'test',
    keywords,
    confidence: 'high',
    pattern: /zz/g,
  });

describe('the prefilter by regular expression (a keyword that is not ASCII)', () => {
  const rules = [
    rule('clé', ['clé']),
    rule('live', ['sk_live_']),
    rule('any-sk', ['sk_']),
    rule('dotted', ['a.b']),
    rule('ab', ['ab']),
    rule('bc', ['bc']),
    rule('always', []),
  ];
  const active = (text: string) =>
    prefilterFor(rules)
      .activeRules(text)
      .map((r) => r.id);

  it('finds keywords case-blind, a keyword found counting for those it holds', () => {
    expect(active('CLÉ')).toEqual(['clé', 'always']);
    expect(active('x SK_LIVE_1')).toEqual(['live', 'any-sk', 'always']);
    expect(active('x sk_1')).toEqual(['any-sk', 'always']);
    expect(active('nothing')).toEqual(['always']);
  });

  it('prefers the longest keyword at a place, in whatever order the rules give them', () => {
    const shortFirst = [rule('any-sk', ['sk_']), rule('live', ['sk_live_']), rule('é', ['é'])];
    expect(
      prefilterFor(shortFirst)
        .activeRules('x sk_live_1')
        .map((r) => r.id),
    ).toEqual(['any-sk', 'live']);
  });

  it('reads keywords literally', () => {
    expect(active('axb')).toEqual(['always']);
    expect(active('a.b')).toEqual(['dotted', 'always']);
  });

  it('finds keywords starting inside another, and every keyword of a text holding them all', () => {
    expect(active('abc')).toEqual(['ab', 'bc', 'always']);
    expect(active('clé sk_live_ a.b abc')).toEqual(rules.map((r) => r.id));
    expect(active('abc abc clé')).toEqual(['clé', 'ab', 'bc', 'always']);
  });

  it('finds a keyword in every text /i finds it in, lowercased or not', () => {
    // To /i the micro sign µ (U+00B5) and the Greek μ (U+03BC) are one letter, though neither
    // lowercases to the other: a rule keyed on either runs on both.
    const micro = [rule('micro', ['\u00b5']), rule('mu', ['\u03bc']), rule('other', ['clé'])];
    const on = (text: string) =>
      prefilterFor(micro)
        .activeRules(text)
        .map((r) => r.id);
    expect(/\u00b5/i.test('\u03bc')).toBe(true);
    expect(on('x \u03bc')).toEqual(['micro', 'mu']);
    expect(on('x \u00b5')).toEqual(['micro', 'mu']);
    expect(on('x \u039c')).toEqual(['micro', 'mu']);
    expect(on('m')).toEqual([]);
  });

  it('tells rules nothing of where keywords are', () => {
    expect(prefilterFor(rules).select('clé')).toStrictEqual({ rules: [rules[0], rules[6]] });
  });
});

describe('keywords holding characters special to regular expressions', () => {
  // [keyword, a text holding a look-alike the keyword read as a pattern would find].
  const cases: Array<[string, string]> = [
    ['q.z', 'qxz'],
    ['q*z', 'z'],
    ['q+z', 'qqz'],
    ['q?z', 'z'],
    ['q^z', 'qz'],
    ['q$z', 'qz'],
    ['q{2}', 'qq'],
    ['q(z', 'qz'],
    ['q)z', 'qz'],
    ['q|z', 'z'],
    ['q[z', 'qz'],
    ['q\\z', 'qz'],
  ];
  const rules = [rule('é', ['é']), ...cases.map(([keyword]) => rule(keyword, [keyword]))];
  const active = (text: string) =>
    prefilterFor(rules)
      .activeRules(text)
      .map((r) => r.id);

  it.each(cases)('%s is found as written, and only so', (keyword, lookAlike) => {
    expect(active(`<${keyword}>`)).toEqual([keyword]);
    expect(active(`<${lookAlike}>`)).toEqual([]);
  });
});

describe('prefilterFor', () => {
  it('builds one prefilter per rule set', () => {
    const rules = [rule('a', ['alpha'])];
    expect(prefilterFor(rules)).toBe(prefilterFor(rules));
    expect(prefilterFor([...rules])).not.toBe(prefilterFor(rules));
  });

  it('runs rules without keywords on any text, with no keyword places to tell', () => {
    const rules = [rule('a', []), rule('b', [])];
    expect(prefilterFor(rules).select('anything')).toStrictEqual({ rules });
  });

  it('tells where the keywords are when an automaton found them', () => {
    const rules = [rule('a', ['alpha']), rule('b', ['beta'])];
    const selection = prefilterFor(rules).select('ALPHA alpha');
    expect(selection.rules).toEqual([rules[0]]);
    expect(selection.keywordMatches?.(['alpha'])).toEqual([
      { start: 0, end: 5 },
      { start: 6, end: 11 },
    ]);
  });
});
