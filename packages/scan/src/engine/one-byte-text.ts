import { isAscii, isUtf8 } from 'node:buffer';

/** Stand-in for a character above U+00FF: neither a word character, nor a space, nor a case pair of one. */
const OTHER = '\u00b7';
/** Stand-in for a space above U+00FF: U+00A0 is a space to regular expressions, as they are. */
const SPACE = '\u00a0';
/** A UTF-8 sequence of two, three or four bytes, each byte read as one Latin-1 character. */
const UTF8_SEQUENCE = /[\xc0-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf7][\x80-\xbf]{3}/g;

function isSpaceAbove0xff(codePoint: number): boolean {
  return (
    codePoint === 0x1680 ||
    (codePoint >= 0x2000 && codePoint <= 0x200a) ||
    codePoint === 0x202f ||
    codePoint === 0x205f ||
    codePoint === 0x3000 ||
    codePoint === 0xfeff
  );
}

/**
 * The text of UTF-8 `bytes` as a one-byte string the scanner's rules read exactly as they read
 * the decoded text: the same length and offsets (a character outside the Basic Multilingual
 * Plane still takes two), every character up to U+00FF itself, every space above it U+00A0,
 * every other character above it U+00B7. The rules' patterns are ASCII without the `u` flag
 * (a test holds them to it), so to them these stand-ins are what the characters were: not word
 * characters, spaces where they were spaces, never equal to an ASCII letter in any case. Such
 * strings are about twice as fast to search as the two-byte strings most decoded files become,
 * and cheaper to make than decoding.
 *
 * `undefined` when that cannot hold: bytes that are not valid UTF-8 (decoding replaces them in
 * ways not worth copying) or a text with U+2028 or U+2029, line terminators with no one-byte
 * stand-in. The caller then decodes as usual.
 *
 * @example
 * ```ts
 * const text = oneByteText(await readFile('config.yaml')) ?? bytes.toString('utf8');
 * ```
 */
export function oneByteText(bytes: Uint8Array): string | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isAscii(buffer)) return buffer.toString('latin1');
  if (!isUtf8(buffer)) return undefined;
  // Read as Latin-1, each multi-byte sequence is a run of characters from U+0080 up: replace
  // each with its stand-ins. A regular expression skips the ASCII between them far faster than
  // a loop over every byte.
  let lineSeparator = false;
  const text = buffer.toString('latin1').replace(UTF8_SEQUENCE, (sequence) => {
    const lead = sequence.charCodeAt(0);
    const second = sequence.charCodeAt(1) & 0x3f;
    if (lead < 0xe0) {
      const codePoint = ((lead & 0x1f) << 6) | second;
      return codePoint <= 0xff ? String.fromCharCode(codePoint) : OTHER;
    }
    if (lead < 0xf0) {
      const codePoint = ((lead & 0x0f) << 12) | (second << 6) | (sequence.charCodeAt(2) & 0x3f);
      if (codePoint === 0x2028 || codePoint === 0x2029) lineSeparator = true;
      return isSpaceAbove0xff(codePoint) ? SPACE : OTHER;
    }
    // Outside the Basic Multilingual Plane: a surrogate pair once decoded, two characters.
    return OTHER + OTHER;
  });
  return lineSeparator ? undefined : text;
}
