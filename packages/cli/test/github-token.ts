/**
 * A GitHub classic token with a valid checksum, fresh each call: the canary the scanner's CLI
 * tests plant, which no output may show whole.
 */
import { randomBytes } from 'node:crypto';
import { crc32Base62 } from '@custos/scan';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `ghp_` + 30 random base62 characters + their CRC32 in six base62 digits. */
export function githubToken(): string {
  const random = `${[...randomBytes(27)].map((byte) => BASE62[byte % 62]).join('')}Zq7`;
  return `ghp_${random}${crc32Base62(random)}`;
}
