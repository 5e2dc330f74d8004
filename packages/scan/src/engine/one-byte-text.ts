import { isAscii, isUtf8 } from 'node:buffer';

/** Stand-in for a character above U+00FF: neither a word character, nor a space, nor a case pair of one. */
const OTHER = 0xb7;
/** Stand-in for a space above U+00FF: U+00A0 is a space to regular expressions, as they are. */
const SPACE = 0xa0;

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
  const out = Buffer.allocUnsafe(buffer.length);
  let o = 0;
  for (let i = 0; i < buffer.length; ) {
    const lead = buffer[i] as number;
    if (lead < 0x80) {
      out[o++] = lead;
      i += 1;
    } else if (lead < 0xe0) {
      const codePoint = ((lead & 0x1f) << 6) | ((buffer[i + 1] as number) & 0x3f);
      out[o++] = codePoint <= 0xff ? codePoint : OTHER;
      i += 2;
    } else if (lead < 0xf0) {
      const codePoint =
        ((lead & 0x0f) << 12) |
        (((buffer[i + 1] as number) & 0x3f) << 6) |
        ((buffer[i + 2] as number) & 0x3f);
      if (codePoint === 0x2028 || codePoint === 0x2029) return undefined;
      out[o++] = isSpaceAbove0xff(codePoint) ? SPACE : OTHER;
      i += 3;
    } else {
      // Outside the Basic Multilingual Plane: a surrogate pair once decoded, two characters.
      out[o++] = OTHER;
      out[o++] = OTHER;
      i += 4;
    }
  }
  return out.toString('latin1', 0, o);
}
