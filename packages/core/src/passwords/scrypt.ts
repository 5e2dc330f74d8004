import { scrypt } from 'node:crypto';
import { constantTimeEqual } from '../crypto/hmac.js';
import { unsupported } from './input.js';

// passlib: `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>`, base64 without padding.
const PASSLIB_SCRYPT =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]{22,})$/;
/** Refuse parameters that would need more than this much memory (a hostile stored hash). */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

export const isScrypt = (stored: string) => stored.startsWith('$scrypt$');

/** Verifies a passlib-format scrypt hash. */
export async function verifyScrypt(input: Buffer, stored: string): Promise<boolean> {
  const match = PASSLIB_SCRYPT.exec(stored);
  if (!match) unsupported('not a valid $scrypt$ hash');
  const [logN, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const memory = 128 * 2 ** logN * r;
  if (logN < 1 || r < 1 || p < 1 || p > 16 || memory > MAX_SCRYPT_MEMORY) {
    unsupported('scrypt parameters are out of range');
  }
  const salt = Buffer.from(match[4] as string, 'base64');
  const expected = Buffer.from(match[5] as string, 'base64');
  const actual = await new Promise<Buffer>((resolve, reject) =>
    scrypt(
      input,
      salt,
      expected.length,
      { N: 2 ** logN, r, p, maxmem: memory + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
  return constantTimeEqual(actual, expected);
}
