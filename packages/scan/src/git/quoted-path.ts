const ESCAPES: Readonly<Record<string, number>> = {
  a: 7,
  b: 8,
  t: 9,
  n: 10,
  v: 11,
  f: 12,
  r: 13,
  '"': 34,
  '\\': 92,
};

/**
 * The bytes of a path as git prints it in a diff header, or `null` when `text` is not a path
 * git could have printed. git quotes a path C-style (`"…"` with `\a \b \t \n \v \f \r \" \\` and
 * `\ooo` octal bytes) when it holds a quote, a backslash, a control character or (with
 * `core.quotePath`, the default) a byte over 0x7f; any other path is printed as it is. `text`
 * holds one byte per character (the output read as latin1), so no byte is lost.
 *
 * @example
 * ```ts
 * unquoteGitPath('"b/caf\\351.env"'); // <Buffer 62 2f 63 61 66 e9 2e 65 6e 76>: b/caf\xe9.env
 * unquoteGitPath('b/plain name.env'); // the same bytes as the text
 * ```
 */
export function unquoteGitPath(text: string): Buffer | null {
  if (!text.startsWith('"')) return Buffer.from(text, 'latin1');
  if (text.length < 2 || !text.endsWith('"')) return null;
  const bytes: number[] = [];
  for (let i = 1; i < text.length - 1; i++) {
    const char = text.charCodeAt(i);
    if (char !== 92) {
      bytes.push(char);
      continue;
    }
    const next = text[++i] ?? '';
    const escaped = ESCAPES[next];
    if (escaped !== undefined) {
      bytes.push(escaped);
      continue;
    }
    const octal = /^[0-3][0-7]{2}/.exec(text.slice(i, i + 3));
    if (octal === null) return null;
    bytes.push(Number.parseInt(octal[0], 8));
    i += 2;
  }
  return Buffer.from(bytes);
}
