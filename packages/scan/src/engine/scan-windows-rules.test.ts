import { describe, expect, it } from 'vitest';
import { patternRule, type Rule } from '../rules/rule.js';
import { scanBytes, scanText } from './scan-text.js';
import { WINDOW_LENGTH, WINDOW_MARGIN } from './windows.js';

/** Lines of `length` characters in all, each holding the keyword `zz`. */
function lines(length: number): string {
  return 'zz filler line of plain text\n'.repeat(Math.ceil(length / 29)).slice(0, length);
}

/** A rule that records the length of every text it is run over and finds nothing. */
function recorder(id: string, wholeText: boolean): { rule: Rule; lengths: number[] } {
  const lengths: number[] = [];
  const rule: Rule = {
    id,
    description: 'records what it reads',
    source: 'test',
    keywords: ['zz'],
    confidence: 'high',
    priority: 0,
    ...(wholeText ? { wholeText: true } : {}),
    find(text) {
      lengths.push(text.length);
      return [];
    },
  };
  return { rule, lengths };
}

/** The same rules, every one over the whole text in one pass: what windows must equal. */
const inOnePass = (rules: readonly Rule[]): Rule[] =>
  rules.map((rule) => ({ ...rule, wholeText: true }));

describe('which rules read a long text window by window', () => {
  it('runs a rule over windows only past two windows of text, and a wholeText rule over all of it', () => {
    for (const length of [1000, 2 * WINDOW_LENGTH - 1, 2 * WINDOW_LENGTH]) {
      const near = recorder('near', false);
      const far = recorder('far', true);
      scanText(lines(length), { rules: [near.rule, far.rule] });
      expect(near.lengths, `${length} characters`).toEqual([length]);
      expect(far.lengths, `${length} characters`).toEqual([length]);
    }
    const length = 5 * WINDOW_LENGTH + 1;
    const near = recorder('near', false);
    const far = recorder('far', true);
    scanText(lines(length), { rules: [near.rule, far.rule] });
    // Five windows (the last takes the rest), each read with its margins.
    expect(near.lengths).toEqual([
      WINDOW_LENGTH + WINDOW_MARGIN,
      WINDOW_LENGTH + 2 * WINDOW_MARGIN,
      WINDOW_LENGTH + 2 * WINDOW_MARGIN,
      WINDOW_LENGTH + 2 * WINDOW_MARGIN,
      WINDOW_LENGTH + 1 + WINDOW_MARGIN,
    ]);
    expect(far.lengths).toEqual([length]);
  });

  it('reports nothing a window finds only because it starts reading in the middle of a word', () => {
    // `\b` holds where a window's text starts: `xTOKEN_…` cut before the `T` reads as a token.
    const rule = patternRule({
      id: 'bounded-token',
      description: 'a token standing alone',
      source: 'test',
      keywords: ['token_'],
      confidence: 'high',
      pattern: /\bTOKEN_[0-9]{12}\b/g,
    });
    const secondWindowFrom = WINDOW_LENGTH - WINDOW_MARGIN;
    const head = `${lines(secondWindowFrom - 2)}\n`;
    const text = `${head}xTOKEN_271828182845 TOKEN_314159265358\n${lines(2 * WINDOW_LENGTH)}`;
    const found = scanText(text, { rules: [rule] });
    expect(found).toEqual(scanText(text, { rules: inOnePass([rule]) }));
    expect(found).toMatchObject([{ line: head.split('\n').length, column: 21 }]);
  });

  it('keeps, of two equally good findings of one stretch, the one of the rule listed first', () => {
    // Two rules that match the same stretch and rank alike: one pass keeps the first rule's.
    // One of them reads the whole text, the other window by window.
    const spec = {
      description: 'a key',
      source: 'test',
      keywords: ['key_'],
      confidence: 'high' as const,
      pattern: /key_[0-9a-f]{16}/g,
    };
    const windowed = patternRule({ ...spec, id: 'first-listed' });
    const whole: Rule = { ...patternRule({ ...spec, id: 'second-listed' }), wholeText: true };
    const keys = ['key_7c1e94a0b35fd268', 'key_e05b7da3196c2f48', 'key_3a9f60d2c8e71b54'];
    let text = '';
    for (const [index, at] of [
      100,
      WINDOW_LENGTH - 10,
      WINDOW_LENGTH + WINDOW_MARGIN + 3,
    ].entries()) {
      text += `${lines(at - text.length)}${keys[index]}\n`;
    }
    text += lines(2 * WINDOW_LENGTH);
    for (const rules of [
      [windowed, whole],
      [whole, windowed],
    ]) {
      const found = scanText(text, { rules });
      expect(found).toEqual(scanText(text, { rules: inOnePass(rules) }));
      expect(found.map((finding) => finding.rule)).toEqual([
        rules[0]?.id,
        rules[0]?.id,
        rules[0]?.id,
      ]);
    }
  });

  it('gives the rules of each window of a file\u2019s bytes the file\u2019s name', () => {
    // An unquoted value is a finding in configuration, not in code (where it is an expression).
    const line = 'db_password = Zq8vN3rT6yW1pL4k\n';
    const head = `${lines(WINDOW_LENGTH)}\n`;
    const text = `${head}${line}${lines(2 * WINDOW_LENGTH)}`;
    const bytes = Buffer.from(text, 'utf8');
    const inConfig = scanBytes(bytes, { name: 'settings.conf' });
    const inCode = scanBytes(bytes, { name: 'src/settings.ts' });
    expect(inConfig).toMatchObject([
      { rule: 'password-assignment', line: head.split('\n').length, column: 15 },
    ]);
    expect(inCode).toEqual([]);
  });
});
