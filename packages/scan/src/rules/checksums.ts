import { crc32 } from 'node:zlib';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * CRC32 (IEEE) of `data` in base62 (`0-9A-Za-z`), left-padded with `0` to 6 characters: the
 * checksum GitHub's and npm's token formats put in their last six characters.
 *
 * @example
 * ```ts
 * crc32Base62('abc'); // "0yKviM"
 * ```
 */
export function crc32Base62(data: string): string {
  let value = crc32(Buffer.from(data, 'utf8')) >>> 0;
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/**
 * Whether `<prefix><30 random characters><6-character checksum>` carries the right checksum of
 * its random part.
 */
export function hasValidPrefixedCrc32(token: string, prefix: string): boolean {
  if (!token.startsWith(prefix) || token.length !== prefix.length + 36) return false;
  const random = token.slice(prefix.length, prefix.length + 30);
  return crc32Base62(random) === token.slice(prefix.length + 30);
}
