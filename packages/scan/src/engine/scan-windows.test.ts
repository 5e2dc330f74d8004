import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomString } from '../../test/generate.js';
import { positives } from '../../test/rule-examples.js';
import { defaultRules } from '../rules/catalog.js';
import { patternRule, type Rule } from '../rules/rule.js';
import { fingerprintSecret } from './fingerprint.js';
import { scanBytes, scanText } from './scan-text.js';
import { WINDOW_LENGTH, WINDOW_MARGIN } from './windows.js';

/** The built-in rules, every one run over the whole text in one pass: what windows must equal. */
const onePass: Rule[] = defaultRules.map((rule) => ({ ...rule, wholeText: true }));

/** Plain code with the keywords most rules wait for, and nothing secret. */
const FILLER_LINES = [
  'const key = config.get("key");',
  'export function token(secret: string) { return hash(secret); }',
  '// the password is read from the environment, never stored',
  'api_key: process.env.API_KEY',
  'private key handling lives in keys.ts',
  'let x = 1;',
];

function filler(length: number): string {
  let text = '';
  for (let i = 0; text.length < length; i++) {
    text += `${FILLER_LINES[i % FILLER_LINES.length]}\n`;
  }
  return text.slice(0, length);
}

describe('scanning a long text window by window', () => {
  it('finds every rule\u2019s example exactly as one pass does, wherever it falls against a window edge', () => {
    let compared = 0;
    for (const example of positives) {
      const secret = example.text();
      const name = example.name.includes('JSON') ? 'key.json' : 'config.env';
      // The example once against each edge: where the next window starts reading, where this
      // one's own stretch ends, where it stops reading (the edges are a margin apart, longer
      // than any example). Ending just before them, across by one character, by half, and
      // starting on them.
      expect(secret.length).toBeLessThan(WINDOW_MARGIN - 2);
      for (const before of [secret.length, Math.ceil(secret.length / 2), 1, 0]) {
        let text = '';
        for (const edge of [
          WINDOW_LENGTH - WINDOW_MARGIN,
          WINDOW_LENGTH,
          WINDOW_LENGTH + WINDOW_MARGIN,
        ]) {
          text += `${filler(edge - before - text.length - 1)}\n${secret}\n`;
        }
        // Long enough to be read window by window (over two windows).
        text += filler(WINDOW_LENGTH);
        const expected = scanText(text, { name, rules: onePass });
        expect(scanText(text, { name }), `${example.name}, ${before} before each edge`).toEqual(
          expected,
        );
        expect(expected.filter((finding) => finding.rule === example.rule)).toHaveLength(3);
        compared++;
      }
    }
    expect(compared).toBe(positives.length * 4);
  }, 60_000); // A bound for a busy machine: about 400 scans of texts of 130 Ki characters.

  it('finds in the bytes of any long mix of secrets, noise and characters above U+00FF what one pass over the decoded text finds', () => {
    const secretLines = positives.map((example) => example.text());
    const piece = fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom(...secretLines) },
      { weight: 1, arbitrary: fc.constantFrom('é', '中文', '😀', '\u00a0', '\u3000', '—') },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
    );
    // Each piece after filler of any length: pieces land anywhere against the window edges.
    const part = fc
      .tuple(fc.integer({ min: 0, max: WINDOW_LENGTH / 2 }), piece, fc.constantFrom('', '\n'))
      .map(([gap, text, separator]) => `${filler(gap)}${text}${separator}`);
    let findings = 0;
    fc.assert(
      fc.property(fc.array(part, { minLength: 8, maxLength: 16 }), (parts) => {
        const text = parts.join('');
        const bytes = Buffer.from(text, 'utf8');
        const decoded = bytes.toString('utf8');
        const expected = scanText(decoded, { name: 'app.env', rules: onePass });
        expect(scanBytes(bytes, { name: 'app.env' })).toEqual(expected);
        findings += expected.length;
      }),
      { numRuns: 25 },
    );
    // 131 findings on average over 100 seeds (σ 9.6, fewest 105): tested on findings, whatever the seed.
    expect(findings).toBeGreaterThan(60);
  });

  it('reads a match whole when it starts in one window and runs most of the margin into the next', () => {
    const rule: Rule = {
      ...patternRule({
        id: 'long-token',
        description: 'a token of 3,000 letters',
        source: 'test',
        keywords: ['long_'],
        confidence: 'high',
        pattern: /long_[a-z]{3000}/g,
      }),
      // Random letters hold runs such as `xxxx` now and then: no placeholder filter here.
      structured: true,
    };
    const token = `long_${randomString(3000, 'abcdefghijklmnopqrstuvwxyz')}`;
    const head = `${filler(WINDOW_LENGTH - 21)}\n`;
    const text = `${head}${token}\n${filler(2 * WINDOW_LENGTH)}`;
    const [finding, ...rest] = scanText(text, { rules: [rule] });
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      rule: 'long-token',
      line: head.split('\n').length,
      column: 1,
      fingerprint: fingerprintSecret(token),
    });
    expect(WINDOW_MARGIN).toBeGreaterThan(token.length);
  });

  it('finds a private key longer than the margin across a window edge: that rule reads the whole text', () => {
    const body = (
      randomBytes(4800)
        .toString('base64')
        .match(/.{1,64}/g) ?? []
    ).join('\n');
    const key = `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----`;
    expect(key.length).toBeGreaterThan(WINDOW_MARGIN + 1000);
    const head = `${filler(WINDOW_LENGTH - 1000)}\n`;
    const text = `${head}${key}\n${filler(2 * WINDOW_LENGTH)}`;
    const found = scanText(text, { name: 'key.pem' });
    expect(found).toMatchObject([
      {
        rule: 'private-key',
        line: head.split('\n').length,
        column: 1,
        fingerprint: fingerprintSecret(key),
      },
    ]);
  });

  it('leaves a match cut off where a window stops reading to the window that reads it whole', () => {
    // A checksum-like rule: a token shorter than 60 letters is one whose check fails (a veto,
    // which takes its stretch from every other candidate).
    const rule: Rule = {
      id: 'checked-token',
      description: 'a token of 60 letters; shorter ones fail their check',
      source: 'test',
      keywords: ['chk_'],
      confidence: 'high',
      priority: 10,
      structured: true,
      *find(text) {
        for (const match of text.matchAll(/chk_[a-z]+/g)) {
          const start = match.index;
          const end = start + match[0].length;
          yield match[0].length === 64
            ? { start, end, confidence: 'high' }
            : { start, end, confidence: 'low', veto: true };
        }
      },
    };
    const token = `chk_${randomString(60, 'abcdefghijklmnopqrstuvwxyz')}`;
    // The first window stops reading 30 letters into the token.
    const head = `${filler(WINDOW_LENGTH + WINDOW_MARGIN - 35)}\n`;
    const text = `${head}${token}\n${filler(2 * WINDOW_LENGTH)}`;
    expect(scanText(text, { rules: [rule] })).toMatchObject([
      {
        rule: 'checked-token',
        line: head.split('\n').length,
        fingerprint: fingerprintSecret(token),
      },
    ]);
  });
});
