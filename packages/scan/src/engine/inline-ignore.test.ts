import { describe, expect, it } from 'vitest';
import { isIgnoredInline } from './inline-ignore.js';
import { LineIndex } from './positions.js';

/**
 * Whether the finding `finding` (its first occurrence in `text`, which may span lines) is
 * silenced by an inline marker.
 */
function ignored(text: string, finding = 'SECRET'): boolean {
  const offset = text.indexOf(finding);
  if (offset < 0) throw new Error(`no ${finding} in the text`);
  const lines = new LineIndex(text);
  return isIgnoredInline(lines, lines.position(offset), lines.position(offset + finding.length));
}

describe('isIgnoredInline: the comment openers', () => {
  it.each([
    ['SECRET // custos-ignore', true],
    ['SECRET # custos-ignore', true],
    ['SECRET ; custos-ignore', true],
    ['SECRET :: custos-ignore', true],
    ['SECRET /* custos-ignore */', true],
    ['SECRET <!-- custos-ignore -->', true],
    ['SECRET -- custos-ignore', true],
    ['SECRET --\tcustos-ignore', true],
    ['SECRET REM custos-ignore', true],
    ['SECRET rem\tcustos-ignore', true],
    // `--` and REM open a comment only before a space or a tab.
    ['SECRET --custos-ignore', false],
    ['SECRET REMcustos-ignore', false],
    ['SECRET REMOVE custos-ignore', false],
    // Two other characters before a space are no opener.
    ['SECRET xy custos-ignore', false],
    ['SECRET x custos-ignore', false],
  ])('%j: %s', (line, silenced) => {
    expect(ignored(line)).toBe(silenced);
  });

  it('takes an opener after a tab as after a space, and none glued to a word', () => {
    expect(ignored('SECRET\t# custos-ignore')).toBe(true);
    expect(ignored('SECRET# custos-ignore')).toBe(false);
    expect(ignored('a#b SECRET')).toBe(false);
  });

  it('reads the marker after any run of blanks, and not a marker glued to the opener’s word', () => {
    expect(ignored('SECRET #custos-ignore because legacy')).toBe(true);
    expect(ignored('SECRET #  \t custos-ignore because legacy')).toBe(true);
    expect(ignored('SECRET # custos-ignored')).toBe(false);
    expect(ignored('SECRET # custos-ignore_x')).toBe(false);
    expect(ignored('SECRET # custos-ignore-x')).toBe(false);
    expect(ignored('SECRET # custos-ignoreé')).toBe(false);
    expect(ignored('SECRET # gitleaks:allow')).toBe(true);
    expect(ignored('SECRET # gitleaks:allowed')).toBe(false);
  });
});

describe('isIgnoredInline: string literals', () => {
  it.each([
    // An opener inside a string that is still open is data, whatever the quote.
    [`x = 'a # custos-ignore`, false],
    ['x = `a # custos-ignore', false],
    ['x = "a # custos-ignore', false],
    // Closed strings before the comment.
    [`'SECRET' # custos-ignore`, true],
    ['`SECRET` # custos-ignore', true],
    ['"SECRET" # custos-ignore', true],
    ['"a\\"SECRET\\"c" # custos-ignore', true],
    // Read without escapes, the escaped quote closed the string and the last one opened another.
    ['"a\\"SECRET" # custos-ignore', false],
    // Backslash-escaped quote: read with escapes the string is still open, without it closed;
    // the opener counts only where both readings put it outside every string.
    ['"a\\" SECRET # custos-ignore', false],
    [`'a\\' SECRET # custos-ignore`, false],
  ])('%j: %s', (line, silenced) => {
    expect(ignored(line, line.includes('SECRET') ? 'SECRET' : 'a')).toBe(silenced);
  });

  it('reads a quote in the first column as opening a string', () => {
    expect(ignored(`'v' # custos-ignore`, 'v')).toBe(true);
    expect(ignored(`'v # custos-ignore`, 'v')).toBe(false);
  });

  it('never counts the finding’s own text: its quotes, openers or marker', () => {
    expect(ignored('"SECRET # custos-ignore', '"SECRET')).toBe(true);
    expect(ignored('# custos-ignore', 'custos-ignore')).toBe(false);
    expect(ignored('x # custos-ignore', '# custos-ignore')).toBe(false);
  });
});

describe('isIgnoredInline: what may follow the marker', () => {
  it.each([
    ['SECRET <!-- custos-ignore -->', true],
    ['SECRET <!-- custos-ignore legacy-->', true],
    // `custos-ignore-` is another word, not the marker.
    ['SECRET <!-- custos-ignore-->', false],
    ['SECRET /* custos-ignore legacy key */  ', true],
    ['SECRET /* custos-ignore*/', true],
    // A closer not at the end, markup, quotes or a table's bar: the marker is data.
    ['SECRET <!-- custos-ignore --> more', false],
    ['SECRET <!-- custos-ignore -->x', false],
    ['SECRET <!-- custos-ignore a>-->', false],
    ['SECRET # custos-ignore "quoted"', false],
    ['SECRET # custos-ignore | cell', false],
    ['SECRET # custos-ignore <b>', false],
  ])('%j: %s', (line, silenced) => {
    expect(ignored(line)).toBe(silenced);
  });
});

describe('isIgnoredInline: lines and their stretches', () => {
  it('reads custos-ignore-next-line on the line before, a reason after it too', () => {
    expect(ignored('# custos-ignore-next-line\nSECRET')).toBe(true);
    expect(ignored('# custos-ignore-next-line because it is a test key\nSECRET')).toBe(true);
    expect(ignored('# custos-ignore-next-line\tlegacy\nSECRET')).toBe(true);
    expect(ignored('# custos-ignore-next-linex\nSECRET')).toBe(false);
    expect(ignored('# custos-ignore-next-line-2\nSECRET')).toBe(false);
    expect(ignored('# custos-ignore-next-line2\nSECRET')).toBe(false);
    expect(ignored('# custos-ignore-next-line\u0301\nSECRET')).toBe(false);
    expect(ignored('# custos-ignore-next-line\nother\nSECRET')).toBe(false);
    // On the first line there is no line before.
    expect(ignored('SECRET\n# custos-ignore-next-line')).toBe(false);
  });

  it('silences only the stretch a marker shares with the finding (a lone CR ends one)', () => {
    expect(ignored('a\rSECRET\rb # custos-ignore')).toBe(false);
    expect(ignored('a # custos-ignore\rSECRET')).toBe(false);
    expect(ignored('SECRET # custos-ignore\rb')).toBe(true);
    expect(ignored('a\rbcSECRET\rd # custos-ignore')).toBe(false);
    expect(ignored('a\rbc\rSECRET # custos-ignore')).toBe(true);
    expect(ignored('a\u2028SECRET # custos-ignore')).toBe(true);
    expect(ignored('a # custos-ignore\u2029SECRET')).toBe(false);
    // CRLF: the carriage return before the newline ends no stretch.
    expect(ignored('SECRET # custos-ignore\r\nnext')).toBe(true);
  });

  it('finds the stretch of a finding after long stretches and after many', () => {
    // A middle stretch behind a long one: its marker counts, the last stretch's does not.
    const long = 'a'.repeat(30);
    expect(ignored(`${long}\rSECRET # custos-ignore\rplain`)).toBe(true);
    expect(ignored(`${long}\rSECRET\rplain # custos-ignore`)).toBe(false);
    // A finding at the very end of a stretch behind ten others is still in that stretch.
    const many = 'a\r'.repeat(10);
    expect(ignored(`${many}# custos-ignore SECRET\rz`)).toBe(true);
    expect(ignored(`${many}SECRET\rz # custos-ignore`)).toBe(false);
  });

  it('takes the line before only for a finding in the first stretch of its line', () => {
    expect(ignored('# custos-ignore-next-line\nSECRET\rb')).toBe(true);
    expect(ignored('# custos-ignore-next-line\na\rSECRET')).toBe(false);
    // The line before's last stretch is the one that precedes.
    expect(ignored('# custos-ignore-next-line\rb\nSECRET')).toBe(false);
    expect(ignored('a\r# custos-ignore-next-line\nSECRET')).toBe(true);
  });

  it('finds a finding that spans lines by its first line', () => {
    expect(ignored('SECRET # custos-ignore\nrest', 'SECRET # custos-ignore\nre')).toBe(false);
    expect(ignored('k = SECRET\nrest # custos-ignore', 'SECRET\nrest')).toBe(false);
    expect(ignored('# custos-ignore-next-line\nSECRET\nrest', 'SECRET\nre')).toBe(true);
  });
});
