import { describe, expect, it } from 'vitest';
import { randomString } from '../../test/generate.js';
import {
  type Confidence,
  type PatternRuleSpec,
  patternRule,
  type Rule,
  type RuleContext,
} from '../rules/rule.js';
import { isReported } from './finding-filter.js';
import { fingerprintSecret } from './fingerprint.js';
import { scanBytes, scanText } from './scan-text.js';

/** A rule of the test's own: `pattern` finds the secret, with the given priority. */
const rule = (
  id: string,
  pattern: RegExp,
  priority: number,
  more: Partial<PatternRuleSpec> = {},
): Rule =>
  patternRule({
    id,
    description: id,
    source: 'test',
    keywords: [],
    confidence: 'high',
    pattern,
    priority,
    ...more,
  });
const ids = (text: string, rules: Rule[], name = 'a.env') =>
  scanText(text, { name, rules }).map((f) => f.rule);
const value = () => randomString(16);

describe('one finding per stretch of text', () => {
  it('keeps the rule of higher priority, whichever runs first', () => {
    const high = rule('high', /v=(?<secret>\w+)/g, 10);
    const low = rule('low', /v=(?<secret>\w+)/g, 1);
    expect(ids(`v=${value()}`, [low, high])).toEqual(['high']);
    expect(ids(`v=${value()}`, [high, low])).toEqual(['high']);
  });

  it('reports nothing where a more specific rule vetoed the characters', () => {
    const vetoing = rule('veto', /v=(?<secret>\w+)/g, 10, {
      validate: () => null,
      vetoRejected: true,
    });
    const generic = rule('generic', /v=(?<secret>\w+)/g, 1);
    expect(ids(`v=${value()}`, [generic, vetoing])).toEqual([]);
    expect(ids(`v=${value()}`, [vetoing, generic])).toEqual([]);
    // A veto takes only its own stretch.
    expect(ids(`v=${value()}\nw=${value()}`, [vetoing, rule('w', /w=(?<secret>\w+)/g, 1)])).toEqual(
      ['w'],
    );
  });

  it('at equal priority: a veto first, then the surer candidate, then the longer', () => {
    const veto = rule('veto', /v=(?<secret>\w+)/g, 5, { validate: () => null, vetoRejected: true });
    const plain = rule('plain', /v=(?<secret>\w+)/g, 5);
    expect(ids(`v=${value()}`, [plain, veto])).toEqual([]);
    expect(ids(`v=${value()}`, [veto, plain])).toEqual([]);
    const sure = rule('sure', /v=(?<secret>\w+)/g, 5, { confidence: 'high' });
    const unsure = rule('unsure', /v=(?<secret>\w+)/g, 5, { confidence: 'low' });
    expect(ids(`v=${value()}`, [unsure, sure])).toEqual(['sure']);
    expect(ids(`v=${value()}`, [sure, unsure])).toEqual(['sure']);
    const long = rule('long', /v=(?<secret>\w+)/g, 5);
    const short = rule('short', /v=(?<secret>\w{4})/g, 5);
    expect(ids(`v=${value()}`, [short, long])).toEqual(['long']);
    expect(ids(`v=${value()}`, [long, short])).toEqual(['long']);
  });

  it('at equal priority and confidence, keeps the longer candidate, not the one ending later', () => {
    const long = rule('long', /v=(?<secret>[\w-]+)/g, 5);
    const inner = rule('inner', /-(?<secret>\w{6})/g, 5);
    // long: offsets 2 to 19; inner: 9 to 15, shorter, but its start plus end is larger.
    const text = `v=${randomString(6)}-${randomString(10)}`;
    expect(ids(text, [inner, long])).toEqual(['long']);
    expect(ids(text, [long, inner])).toEqual(['long']);
  });

  it('keeps the first rule when the candidates are alike in every way', () => {
    const a = rule('a', /v=(?<secret>\w+)/g, 5);
    const b = rule('b', /v=(?<secret>\w+)/g, 5);
    expect(ids(`v=${value()}`, [a, b])).toEqual(['a']);
    expect(ids(`v=${value()}`, [b, a])).toEqual(['b']);
  });

  it('keeps candidates that only touch, in the order of the text', () => {
    const first = rule('first', /(?<secret>[a-z0-9]{8})/g, 5);
    const second = rule('second', /(?<secret>[BCDEFGHJ]{8})/g, 5);
    const text = '-k2mq9zpwBCDEFGHJ-';
    expect(ids(text, [second, first])).toEqual(['first', 'second']);
    expect(scanText(text, { rules: [second, first] }).map((f) => [f.column, f.endColumn])).toEqual([
      [2, 10],
      [10, 18],
    ]);
  });
});

describe('what scanText makes of candidates', () => {
  const anyValue = rule('any', /v=(?<secret>\S+)/g, 5);

  it('drops placeholders, references and protected values, except for structured rules', () => {
    const standIns = ['your_key_here', '$API_TOKEN', `vault:v1:${value()}`];
    for (const standIn of standIns) {
      expect(ids(`v=${standIn}`, [anyValue])).toEqual([]);
    }
    expect(ids(`v=${value()}`, [anyValue])).toEqual(['any']);
    const structured = { ...rule('block', /v=(?<secret>\S+)/g, 5), structured: true };
    expect(ids('v=AAAAAAAAAAAAAAAA', [structured])).toEqual(['block']);
    expect(ids('v=AAAAAAAAAAAAAAAA', [anyValue])).toEqual([]);
  });

  it('reports the variant a validator names, else the rule', () => {
    const variant = rule('family', /v=(?<secret>\w+)/g, 5, {
      validate: () => ({ confidence: 'medium', ruleId: 'family-member' }),
    });
    const [finding] = scanText(`v=${value()}`, { rules: [variant] });
    expect(finding).toMatchObject({ rule: 'family-member', confidence: 'medium', file: '' });
  });

  it('places a secret spanning lines from its first line and column to just past its last', () => {
    const block = rule('block', /(?<secret>BEGIN[\s\S]*?END)/g, 5);
    const inner = value();
    const text = `head\n  BEGIN ${inner}\n${inner} END tail`;
    const [finding, ...rest] = scanText(text, { name: 'k.pem', rules: [block] });
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ line: 2, column: 3, endLine: 3, endColumn: 21 });
    // An inline ignore counts on the secret's first line only, and never inside the secret: the
    // rest of a multi-line secret's first line is the secret, so the line before silences it.
    expect(scanText(`${text} # custos-ignore`, { rules: [block] })).toHaveLength(1);
    expect(
      scanText(`head\n  BEGIN ${inner} # custos-ignore\nEND`, { rules: [block] }),
    ).toHaveLength(1);
    expect(
      scanText(`head # custos-ignore-next-line\n  BEGIN ${inner}\nEND`, { rules: [block] }),
    ).toEqual([]);
  });

  it('fingerprints with the given key, and redacts the secret', () => {
    const secret = value();
    const [finding] = scanText(`v=${secret}`, { rules: [anyValue], fingerprintKey: 'mine' });
    expect(finding?.fingerprint).toBe(fingerprintSecret(secret, 'mine'));
    expect(finding?.redacted).toBe(`${secret.slice(0, 4)}…`);
  });

  it('reports a fixture one level lower, and keeps to the minimum confidence', () => {
    const text = `v=${value()}`;
    const confidence = (name: string, level: Confidence, minConfidence?: Confidence) =>
      scanText(text, {
        name,
        rules: [rule('r', /v=(?<secret>\w+)/g, 5, { confidence: level })],
        ...(minConfidence ? { minConfidence } : {}),
      }).map((f) => f.confidence);
    expect(confidence('src/a.env', 'medium')).toEqual(['medium']);
    expect(confidence('test/a.env', 'medium')).toEqual(['low']);
    expect(confidence('test/a.env', 'low')).toEqual(['low']);
    expect(confidence('src/a.env', 'low', 'medium')).toEqual([]);
    expect(confidence('src/a.env', 'medium', 'medium')).toEqual(['medium']);
    expect(confidence('test/a.env', 'high', 'high')).toEqual([]);
  });
});

describe('what rules are told', () => {
  const recorder = (keywords: string[], seen: RuleContext[]): Rule => ({
    ...rule('recorder', /zz/g, 5),
    keywords,
    find(_text, context) {
      if (context !== undefined) seen.push(context);
      return [];
    },
  });

  it('the name, and where their keywords are when the prefilter knows', () => {
    const seen: RuleContext[] = [];
    scanText('x alpha ALPHA', { name: 'a.env', rules: [recorder(['alpha'], seen)] });
    expect(seen.map((c) => c.name)).toEqual(['a.env']);
    expect(seen[0]?.keywordMatches?.(['alpha'])).toEqual([
      { start: 2, end: 7 },
      { start: 8, end: 13 },
    ]);
  });

  it('nothing of keywords the prefilter sought by regular expression, and an empty name by default', () => {
    const seen: RuleContext[] = [];
    scanText('clé', { rules: [recorder(['clé'], seen)] });
    scanBytes(Buffer.from('clé'), { rules: [recorder(['clé'], seen)] });
    expect(seen).toStrictEqual([{ name: '' }, { name: '' }]);
  });
});

describe('file names', () => {
  it('names no file when given none, whether scanning text or bytes', () => {
    const text = `STRIPE=sk_live_${randomString(24)}`;
    expect(scanText(text).map((f) => [f.file, f.rule])).toEqual([['', 'stripe-secret-key']]);
    expect(scanBytes(Buffer.from(text)).map((f) => [f.file, f.rule])).toEqual([
      ['', 'stripe-secret-key'],
    ]);
    expect(scanBytes(Buffer.from(`é ${text}`)).map((f) => [f.file, f.rule])).toEqual([
      ['', 'stripe-secret-key'],
    ]);
  });
});

describe('isReported', () => {
  const finding = (confidence: Confidence) => ({
    rule: 'r',
    file: 'src/a.ts',
    line: 1,
    column: 1,
    endLine: 1,
    endColumn: 9,
    fingerprint: fingerprintSecret(value()),
    confidence,
    redacted: 'abcd…',
  });

  it('reports every confidence by default, and only as sure as asked', () => {
    expect(isReported(finding('low'), {})).toBe(true);
    expect(isReported(finding('low'), { minConfidence: 'medium' })).toBe(false);
    expect(isReported(finding('medium'), { minConfidence: 'medium' })).toBe(true);
    expect(isReported(finding('medium'), { minConfidence: 'high' })).toBe(false);
  });

  it('drops allowlisted and baselined findings, with one allowlist reused across findings', () => {
    const allowlist = { paths: ['docs/'] };
    const here = finding('high');
    expect(isReported(here, { allowlist })).toBe(true);
    expect(isReported({ ...here, file: 'docs/a.md' }, { allowlist })).toBe(false);
    expect(isReported(here, { allowlist })).toBe(true);
    expect(isReported(here, { baseline: new Set([here.fingerprint]) })).toBe(false);
    expect(isReported(here, { baseline: new Set() })).toBe(true);
  });
});
