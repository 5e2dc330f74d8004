import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { asciiSource } from './ascii-source.js';

/** Evaluates a script's last expression in a fresh context. */
const evaluate = (source: string): unknown => runInNewContext(source);

describe('asciiSource', () => {
  it('leaves ASCII source as it is', () => {
    const source = 'const a = "x\\n"; // plain\n/** doc */ a;';
    expect(asciiSource(source)).toBe(source);
  });

  it('writes every character outside ASCII as an escape, comments included', () => {
    const escaped = asciiSource('/** a → b … */ "é"');
    expect(escaped).toBe('/** a \\u2192 b \\u2026 */ "\\u00e9"');
    expect(/[^\0-\x7f]/.test(escaped)).toBe(false);
  });

  it('means the same in strings, templates, regular expressions and identifiers', () => {
    const cases = [
      '"é — ☃ 😀"',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a template literal's source is the point
      '`é ${1 + 1} — 😀`',
      '/^[é→]+$/.test("éé→")',
      '/^😀$/u.test("😀")',
      '/^.$/u.test("😀")',
      '"😀".length',
      'const café = 3; café * 2',
      '/* → */ "a" + /* é */ "b"',
    ];
    for (const source of cases) {
      const escaped = asciiSource(source);
      expect(/[^\0-\x7f]/.test(escaped), source).toBe(false);
      expect(evaluate(escaped), source).toEqual(evaluate(source));
    }
  });
});
