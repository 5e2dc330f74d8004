import { describe, expect, it } from 'vitest';
import { isIgnoredInline } from './inline-ignore.js';
import { LineIndex } from './positions.js';
import { redactSecret } from './redact.js';

describe('LineIndex', () => {
  it('turns offsets into 1-based lines and columns, line breaks belonging to their line', () => {
    // a0 b1 \n2 c3 d4 \n5 \n6 e7 f8
    const lines = new LineIndex('ab\ncd\n\nef');
    expect([0, 1, 2, 3, 5, 6, 7, 8, 9].map((offset) => lines.position(offset))).toEqual([
      { line: 1, column: 1 },
      { line: 1, column: 2 },
      { line: 1, column: 3 },
      { line: 2, column: 1 },
      { line: 2, column: 3 },
      { line: 3, column: 1 },
      { line: 4, column: 1 },
      { line: 4, column: 2 },
      { line: 4, column: 3 },
    ]);
  });

  it('finds the line of every offset among many lines of different lengths', () => {
    // More lines than the index first makes room for: it grows twice.
    const texts = Array.from({ length: 1001 }, (_, i) => 'x'.repeat(i % 7));
    const lines = new LineIndex(texts.join('\n'));
    let offset = 0;
    texts.forEach((text, i) => {
      for (let column = 1; column <= text.length + 1; column++) {
        expect(lines.position(offset + column - 1)).toEqual({ line: i + 1, column });
      }
      offset += text.length + 1;
    });
  });

  it('gives the text of a line without its break, and nothing for lines that do not exist', () => {
    const lines = new LineIndex('ab\ncd\n\nef');
    expect([0, 1, 2, 3, 4, 5].map((line) => lines.lineText(line))).toEqual([
      '',
      'ab',
      'cd',
      '',
      'ef',
      '',
    ]);
    expect(new LineIndex('one line').lineText(1)).toBe('one line');
    expect(new LineIndex('ends\n').lineText(2)).toBe('');
  });

  it('counts a line break at the very start', () => {
    const lines = new LineIndex('\nab');
    expect(lines.position(1)).toEqual({ line: 2, column: 1 });
    expect(lines.lineText(1)).toBe('');
    expect(lines.lineText(2)).toBe('ab');
  });
});

describe('isIgnoredInline', () => {
  /** Whether a finding of `length` characters at `line`, `column` is silenced. */
  const ignored = (text: string, line: number, column = 1, length = 1) =>
    isIgnoredInline(new LineIndex(text), { line, column }, { line, column: column + length });

  it('silences the line holding custos-ignore or gitleaks:allow', () => {
    expect(ignored('k = v # custos-ignore', 1)).toBe(true);
    expect(ignored('a\nk = v // gitleaks:allow', 2)).toBe(true);
    expect(ignored('k = v # custos-ignore\nk = w', 2)).toBe(false);
  });

  it('counts a marker in a comment of any common syntax, after code or alone', () => {
    for (const comment of [
      '# custos-ignore',
      '// custos-ignore',
      '/* custos-ignore */',
      '<!-- custos-ignore -->',
      '-- custos-ignore',
      '; custos-ignore',
      '% custos-ignore',
      "' custos-ignore",
      ':: custos-ignore',
      'REM custos-ignore',
      '#custos-ignore',
      '# see the runbook; custos-ignore',
      '# gitleaks:allow',
    ])
      expect(ignored(`k = secret ${comment}`, 1, 5, 6), comment).toBe(true);
    expect(ignored('k = "secret";// custos-ignore', 1, 6, 6)).toBe(true);
    expect(ignored('k = "secret"# custos-ignore', 1, 6, 6)).toBe(true);
  });

  it('never counts a marker outside a comment, nor one inside the finding', () => {
    // No comment opener: the marker is data, or part of a URL.
    expect(ignored('k = secret custos-ignore', 1, 5, 6)).toBe(false);
    expect(ignored('url = https://u:secret@db.example/custos-ignore', 1, 17, 6)).toBe(false);
    expect(ignored('url = https://db.example/x#custos-ignore?p=secret', 1, 45, 6)).toBe(false);
    expect(ignored('{"key": "secret", "note": "custos-ignore"}', 1, 10, 6)).toBe(false);
    expect(ignored('key: secret  # note: "custos-ignore"', 1, 6, 6)).toBe(true);
    // The finding's own text: a secret that holds a marker, or a comment opener, silences nothing.
    expect(ignored('k = abc#custos-ignore-xyz', 1, 5, 21)).toBe(false);
    expect(ignored('k = ab#cd custos-ignore', 1, 5, 5)).toBe(false);
    const pem = '-----BEGIN KEY----- # custos-ignore\nAAAA\n-----END KEY-----';
    expect(
      isIgnoredInline(new LineIndex(pem), { line: 1, column: 1 }, { line: 3, column: 18 }),
    ).toBe(false);
    // Next-line markers also need a comment.
    expect(ignored('x = 1 custos-ignore-next-line\nk = secret', 2, 5, 6)).toBe(false);
    expect(ignored('x = 1 # custos-ignore-next-line\nk = secret', 2, 5, 6)).toBe(true);
  });

  it('silences the line after custos-ignore-next-line, not that line itself nor the one before', () => {
    const text = 'k = a\nk = b # custos-ignore-next-line\nk = c\nk = d';
    expect([1, 2, 3, 4].map((line) => ignored(text, line))).toEqual([false, false, true, false]);
    expect(ignored('k = v', 1)).toBe(false);
  });

  it('ends a line at a lone carriage return too: a marker silences only its own stretch', () => {
    // Old Mac line endings: git and the line count see one line, an editor three.
    const mac = 'k = secret # custos-ignore\rk = other\rk = third';
    expect(ignored(mac, 1, 5, 6)).toBe(true);
    expect(ignored(mac, 1, 32, 5)).toBe(false);
    expect(ignored(mac, 1, 42, 5)).toBe(false);
    const next = 'k = a # custos-ignore-next-line\rk = b\nk = c\rk = d';
    expect(ignored(next, 2, 1)).toBe(false);
    const last = 'k = a\rk = b # custos-ignore-next-line\nk = c\rk = d';
    expect(ignored(last, 2, 1)).toBe(true);
    expect(ignored(last, 2, 7)).toBe(false);
    // CRLF line endings are one break, as before.
    const crlf = 'k = a # custos-ignore-next-line\r\nk = b # custos-ignore\r\nk = c';
    expect([1, 2, 3].map((line) => ignored(crlf, line))).toEqual([false, true, false]);
    expect(ignored('k = v # custos-ignore\r\nk = w', 2)).toBe(false);
  });
});

describe('redactSecret', () => {
  it('shows four characters of a long secret', () => {
    expect(redactSecret('abcdefghijklmnopqrst')).toBe('abcd…');
    expect(redactSecret('abcdefghijklmno')).toBe('abc…');
    expect(redactSecret('')).toBe('…');
  });
});
