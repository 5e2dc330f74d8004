/**
 * JavaScript source with every character outside ASCII written as a `\uXXXX` escape (one per
 * UTF-16 code unit), for the bundle: V8 keeps each loaded module's source for as long as the
 * process runs, one byte per character when all of it is Latin-1 and two bytes per character
 * otherwise. esbuild escapes strings, template literals, regular expressions and identifiers
 * itself but copies comments as they are, so one `→` in a comment doubled the memory of a
 * whole chunk (the server's largest, 0.9 MB, among them).
 *
 * The escape means the same character wherever esbuild leaves one: in a comment it is text; in
 * a string, a template's cooked value, a regular expression (a surrogate pair escaped as two
 * units is one code point under the `u` flag) and an identifier (BMP characters only) it is
 * the character. Only `String.raw` would tell, and esbuild has escaped those already.
 *
 * @example
 * ```ts
 * asciiSource('/** a → b *\/ const s = "é";');
 * // → '/** a \\u2192 b *\/ const s = "\\u00e9";'
 * ```
 */
export function asciiSource(source: string): string {
  return source.replace(
    /[^\0-\x7f]/g,
    (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
