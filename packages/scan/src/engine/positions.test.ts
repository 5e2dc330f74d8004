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

  /** Whether a finding of `secret` inside `line` (its first occurrence) is silenced. */
  const silences = (line: string, secret = 'SECRET') =>
    ignored(line, 1, line.indexOf(secret) + 1, secret.length);

  it('counts a comment that begins with a marker, in any common syntax, after code or alone', () => {
    for (const comment of [
      '# custos-ignore',
      '#custos-ignore',
      '// custos-ignore',
      '/* custos-ignore */',
      '<!-- custos-ignore -->',
      '-- custos-ignore',
      '; custos-ignore',
      ':: custos-ignore',
      'REM custos-ignore',
      'rem\tcustos-ignore',
      '# custos-ignore: rotated by ops, see OPS-42',
      '/* custos-ignore: legacy */',
      '# gitleaks:allow',
    ])
      expect(silences(`k = SECRET ${comment}`), comment).toBe(true);
    for (const line of [
      'k = "SECRET"; // custos-ignore',
      "k = 'SECRET' # custos-ignore",
      'TOKEN=SECRET # custos-ignore',
      "INSERT INTO t VALUES ('SECRET'); -- custos-ignore",
      '  token: SECRET  # custos-ignore',
    ])
      expect(silences(line), line).toBe(true);
  });

  it('never counts a marker anywhere else: every doubt is reported (found by outside probes)', () => {
    for (const line of [
      // No comment: data, a URL, a command line, a word that only starts like the marker.
      'k = SECRET custos-ignore',
      'url = https://u:SECRET@db.example/custos-ignore',
      'url = https://db.example/x#custos-ignore?p=SECRET',
      'git clone --depth 1 https://x:SECRET@github.com/acme/custos-ignore.git',
      'k = SECRET # must not be custos-ignored',
      'k = SECRET # custos-ignoré',
      // An opener stuck to the code before it opens no comment.
      'k = "SECRET";// custos-ignore',
      'k = "SECRET"# custos-ignore',
      'ci,SECRET,# custos-ignore',
      'ci;SECRET;;custos-ignore',
      // In a string literal, however backslashes are read: JSON, YAML, CSV, SQL, TOML, shells, code.
      '{"key": "SECRET", "note": "custos-ignore"}',
      '{"key": "SECRET", "comment": "rotated -- custos-ignore"}',
      '{"private_key": "SECRET", "note": "#custos-ignore"}',
      'token: "SECRET #custos-ignore"',
      '1,SECRET,"#custos-ignore"',
      "VALUES ('SECRET', 'custos-ignore')",
      "INSERT INTO t VALUES ('SECRET', 'C:\\', '-- custos-ignore');",
      "creds: {token: 'SECRET', dir: 'C:\\', note: '# custos-ignore'}",
      'ci,SECRET,"C:\\","# custos-ignore"',
      "export T=SECRET; echo 'C:\\'; echo '# custos-ignore'",
      'var token, sep, note = "SECRET", `\\`, `// custos-ignore`',
      '<key value="SECRET" note="# custos-ignore"/>',
      "export const t = 'SECRET'; export type Mode = 'custos-ignore';",
      "const cfg = { token: 'SECRET', scanner: 'custos-ignore' }",
      'color: #fff; content: "SECRET custos-ignore"',
      // A stray quote before: whatever it opens, the marker after it is in doubt.
      "owner: {name: O'Brien, token: SECRET, note: '# custos-ignore'}",
      'screen: {size: 27", token: SECRET, note: "# custos-ignore"}',
      'TOKEN = "SECRET"; HELP = """Say "hi # custos-ignore"""',
      'const token = "SECRET", quote = /"/g, note = "see // custos-ignore";',
      // Markup or a table cell after the marker: a value, not a comment.
      '<token>SECRET</token><note># custos-ignore</note>',
      '<p>Token: <code>SECRET</code> # custos-ignore</p>',
      '| ci | SECRET | # custos-ignore |',
      // A comment that has closed, or that has other words (and other openers) first.
      '/* config */ const t = "SECRET", label = "custos-ignore";',
      '<!-- nav --><a href="https://x:SECRET@github.com/acme/custos-ignore">repo</a>',
      'k = SECRET # see the runbook; custos-ignore',
      'k = SECRET # rotate later ; custos-ignore',
      'k = SECRET # see ticket #42 # custos-ignore',
      'const t = "SECRET"; // old key // custos-ignore',
      'k = SECRET # note: "custos-ignore"',
      // An escaped quote before: read with and without escapes, the strings end apart.
      'k = "it\\"s" + "SECRET" // custos-ignore',
      // Spaces other than a space or a tab do not separate an opener.
      'token: SECRET\u00a0# custos-ignore',
      'token: SECRET\u3000# custos-ignore',
    ])
      expect(silences(line), line).toBe(false);
    // The finding's own text: a secret holding a marker, a quote or an opener silences nothing,
    // nor does a marker stuck to its end inside the same literal.
    for (const [line, secret] of [
      ['k = abc#custos-ignore-xyz', 'abc#custos-ignore-xyz'],
      ['k = ab#cd custos-ignore', 'ab#cd'],
      ['const a = "SECRET//custos-ignore".slice(0, 6);', 'SECRET'],
      ['const b = "SECRET;custos-ignore".split(";")[0];', 'SECRET'],
      ['A = "SECRET#custos-ignore"[:6]', 'SECRET'],
      ['k = "SEC"RET" # custos-ignore', 'SEC"RET'],
    ] as const)
      expect(silences(line, secret), line).toBe(secret === 'SEC"RET');
    const pem = '-----BEGIN KEY----- # custos-ignore\nAAAA\n-----END KEY-----';
    expect(
      isIgnoredInline(new LineIndex(pem), { line: 1, column: 1 }, { line: 3, column: 18 }),
    ).toBe(false);
    // Next-line markers also need a comment of their own, beginning with them.
    for (const before of [
      'x = 1 custos-ignore-next-line',
      'const help = "run with #custos-ignore-next-line";',
      '# do not custos-ignore-next-line',
      '# rotate monthly # custos-ignore-next-line',
      "INSERT INTO notes VALUES ('C:\\', '-- custos-ignore-next-line');",
    ])
      expect(ignored(`${before}\nk = SECRET`, 2, 5, 6), before).toBe(false);
    expect(ignored('x = 1 # custos-ignore-next-line\nk = SECRET', 2, 5, 6)).toBe(true);
  });

  it('reads a long line once, not once per opener', () => {
    const line = `k = SECRET "${'# custos-ignore '.repeat(16_000)}"`;
    // 16,000 openers inside one string: each is judged from one reading of the line.
    expect(silences(line)).toBe(false);
  });

  it('ends a line at U+2028 and U+2029 too, as JavaScript does', () => {
    for (const sep of ['\u2028', '\u2029']) {
      expect(ignored(`// custos-ignore-next-line${sep}init();\nk = SECRET`, 2, 5, 6)).toBe(false);
      expect(ignored(`k = SECRET;${sep}// custos-ignore`, 1, 5, 6)).toBe(false);
      expect(ignored(`k = SECRET; // custos-ignore${sep}x = 1`, 1, 5, 6)).toBe(true);
    }
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
