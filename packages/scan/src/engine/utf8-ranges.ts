import { isAscii } from 'node:buffer';

/** A stretch of ASCII this long is stepped over at once (`isAscii` reads it far faster than a loop). */
const ASCII_STEP = 4096;

/** A place in UTF-8 bytes: the offset of a character in the decoded text, and of its first byte. */
interface Place {
  readonly unit: number;
  readonly byte: number;
}

/**
 * Stretches of the decoded text of valid UTF-8 `bytes`, by the decoded text's offsets (UTF-16
 * code units: a character outside the Basic Multilingual Plane takes two), each decoded from
 * its own bytes: `slice(from, to)` equals `bytes.toString('utf8').slice(from, to)` without
 * decoding the rest. A file of megabytes whose scan needs a few values as they are decoded then
 * costs a few kilobytes of decoding instead of a two-byte copy of the whole file.
 *
 * Finding where a character's bytes start walks forward from the last place found, so slices
 * asked for in increasing order of `from` cost one pass over the bytes in all (ASCII stepped
 * over 4 KiB at a time); a slice before the last place starts again from the beginning.
 *
 * @example
 * ```ts
 * const ranges = new Utf8Ranges(Buffer.from('naïve — 𝄞 clef'));
 * ranges.slice(6, 9); // '— \ud834'
 * ```
 */
export class Utf8Ranges {
  readonly #bytes: Buffer;
  #last: Place = { unit: 0, byte: 0 };

  constructor(bytes: Uint8Array) {
    this.#bytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The decoded text from offset `from` up to `to` (as `String.prototype.slice` takes them). */
  slice(from: number, to: number): string {
    if (to <= from) return '';
    const start = this.#placeOf(from, from < this.#last.unit ? { unit: 0, byte: 0 } : this.#last);
    this.#last = start;
    const end = this.#placeOf(to, start);
    // `end` is the character holding offset `to`: when `to` falls inside a surrogate pair, its
    // bytes are decoded too and the slice below keeps only its first half.
    const endByte = end.unit < to ? this.#afterCharacterAt(end.byte) : end.byte;
    const decoded = this.#bytes.toString('utf8', start.byte, endByte);
    return decoded.slice(from - start.unit, to - start.unit);
  }

  /**
   * The character holding offset `unit`, walking forward from `from`: where it starts in the
   * decoded text and in the bytes. Its start is `unit` itself unless `unit` is the second half
   * of a surrogate pair; the end of the bytes is a place too.
   */
  #placeOf(unit: number, from: Place): Place {
    const bytes = this.#bytes;
    let here = from.unit;
    let byte = from.byte;
    while (here < unit && byte < bytes.length) {
      // Character by character up to the end of this 4 KiB (or the target), unless it is ASCII.
      let stop = bytes.length;
      if (unit - here >= ASCII_STEP && byte + ASCII_STEP <= bytes.length) {
        if (isAscii(bytes.subarray(byte, byte + ASCII_STEP))) {
          here += ASCII_STEP;
          byte += ASCII_STEP;
          continue;
        }
        stop = byte + ASCII_STEP;
      }
      while (here < unit && byte < stop) {
        const lead = bytes[byte] as number;
        if (lead < 0x80) {
          here++;
          byte++;
        } else if (lead < 0xf0) {
          here++;
          byte += lead < 0xe0 ? 2 : 3;
        } else {
          if (here + 2 > unit) return { unit: here, byte };
          here += 2;
          byte += 4;
        }
      }
    }
    return { unit: here, byte: Math.min(byte, bytes.length) };
  }

  /** The offset of the byte after the character whose first byte is at `byte`. */
  #afterCharacterAt(byte: number): number {
    const lead = this.#bytes[byte] as number;
    const length = lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
    return Math.min(byte + length, this.#bytes.length);
  }
}
