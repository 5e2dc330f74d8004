import { describe, expect, it } from 'vitest';
import { hex } from '../../test/generate.js';
import { isGitleaksIgnored, parseGitleaksIgnore } from './gitleaks-ignore.js';

describe('.gitleaksignore lines', () => {
  it('skips comments, blank lines, and lines without a whole positive line number or a file', () => {
    const text = [
      '   ',
      '# a.env:generic-api-key:3',
      '  # indented comment:rule:4',
      'a.env:generic-api-key:0',
      'a.env:generic-api-key:-2',
      'a.env:generic-api-key:1.5',
      'a.env:generic-api-key:x',
      'generic-api-key:5',
      '7',
    ].join('\n');
    expect(parseGitleaksIgnore(text)).toStrictEqual([]);
  });

  it('trims each line, CRLF included, and reads line 1', () => {
    expect(parseGitleaksIgnore('  a.env:generic-api-key:1  \r\nb.env:jwt:12\r\n')).toStrictEqual([
      { file: 'a.env', line: 1 },
      { file: 'b.env', line: 12 },
    ]);
  });

  it('takes a leading 40-hex-digit part for a commit only when a file follows it', () => {
    const commit = hex(40);
    expect(parseGitleaksIgnore(`${commit}:generic-api-key:3`)).toStrictEqual([
      { file: commit, line: 3 },
    ]);
    expect(parseGitleaksIgnore(`${commit}:a.env:generic-api-key:3`)).toStrictEqual([
      { commit, file: 'a.env', line: 3 },
    ]);
    // Not a commit: 39 digits, upper case, or a longer run.
    for (const part of [
      hex(39),
      hex(40).toUpperCase().replace(/^./, 'A'),
      `x${hex(40)}`,
      `${hex(40)}0`,
    ]) {
      expect(parseGitleaksIgnore(`${part}:a.env:generic-api-key:3`)).toStrictEqual([
        { file: `${part}:a.env`, line: 3 },
      ]);
    }
  });

  it("matches a finding only in the entry's file, and in any commit when the entry names none", () => {
    const entries = parseGitleaksIgnore('a.env:generic-api-key:3\n');
    expect(isGitleaksIgnored(entries, { file: 'b.env', line: 3 })).toBe(false);
    expect(isGitleaksIgnored(entries, { file: 'a.env', line: 3, commit: hex(40) })).toBe(true);
  });

  it('matches no finding when there are no entries', () => {
    expect(isGitleaksIgnored([], { file: 'a.env', line: 1 })).toBe(false);
  });
});
