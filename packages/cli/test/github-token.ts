/**
 * A GitHub classic token with a valid checksum, fresh each call: the canary the scanner's CLI
 * tests plant, which no output may show whole.
 */
import { randomBytes } from 'node:crypto';
import { crc32Base62, isPlaceholder } from '@custos/scan';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * `length` random base62 characters that the scanner would not take for a placeholder: about
 * one draw in ten thousand of a 36-character canary holds `xXxX` or a word such as `TODO`, and a
 * planted canary the scanner rightly ignores fails its test.
 */
export function randomBase62(length: number): string {
  for (;;) {
    const text = [...randomBytes(length)].map((byte) => BASE62[byte % 62]).join('');
    if (!isPlaceholder(text)) return text;
  }
}

/** `ghp_` + 30 random base62 characters + their CRC32 in six base62 digits. */
export function githubToken(): string {
  for (;;) {
    const random = `${randomBase62(27)}Zq7`;
    const token = `ghp_${random}${crc32Base62(random)}`;
    if (!isPlaceholder(token)) return token;
  }
}
