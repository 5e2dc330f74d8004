/**
 * Characters a terminal acts on instead of showing: C0 and C1 controls (escape sequences, carriage
 * returns, line breaks), DEL, Unicode's line and paragraph separators and its bidirectional
 * overrides and isolates (text shown in another order than it is stored).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters it escapes
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escaped(character: string): string {
  const code = character.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` safe to print on a terminal: each character a terminal would act on (see above) is
 * written as an escape (`\x1b`, `\u202e`). File names, author names and commit data come from the
 * scanned content: a name holding `\x1b[2K\r` must not erase or fake the lines around it.
 *
 * @example
 * ```ts
 * printable('a\u001b[2Kb.env'); // 'a\\x1b[2Kb.env'
 * ```
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escaped);
}
