import { createHash } from 'node:crypto';
import bcrypt from 'bcrypt';
import { hmacSha256 } from '../crypto/hmac.js';
import { unsupported } from './input.js';

/**
 * bcrypt reads at most this many bytes of its input and ignores the rest.
 *
 * @example
 * ```ts
 * if (Buffer.byteLength(password) > BCRYPT_MAX_BYTES) useArgon2id();
 * ```
 */
export const BCRYPT_MAX_BYTES = 72;

const PLAIN = /^\$2([aby])\$(\d{2})\$([./A-Za-z0-9]{22})([./A-Za-z0-9]{31})$/;
// passlib's bcrypt_sha256: v2 is `$bcrypt-sha256$v=2,t=2b,r=12$<salt>$<hash>`, v1 `$bcrypt-sha256$2b,12$…`.
const PRE_HASHED =
  /^\$bcrypt-sha256\$(?:v=2,t=(2[ab]),r=(\d{1,2})|(2[ab]),(\d{1,2}))\$([./A-Za-z0-9]{22})\$([./A-Za-z0-9]{31})$/;

export const isPlainBcrypt = (stored: string) => stored.startsWith('$2');
export const isPreHashedBcrypt = (stored: string) => stored.startsWith('$bcrypt-sha256$');

/**
 * Verifies a plain bcrypt hash (`$2a$`, `$2b$`, `$2y$`). Such a hash was made from at most the
 * first 72 bytes of the password (bcrypt ignores the rest), so that prefix is what is compared:
 * explicitly, here, rather than silently inside bcrypt. Every plain bcrypt hash is reported as
 * needing a rehash, which moves it to a scheme that reads the whole password.
 */
export async function verifyPlainBcrypt(input: Buffer, stored: string): Promise<boolean> {
  const match = PLAIN.exec(stored);
  if (!match) unsupported('not a valid bcrypt hash');
  checkCost(Number(match[2]));
  // $2y$ (PHP) is the same algorithm as $2b$; the native binding knows $2a$ and $2b$.
  const normalised = match[1] === 'y' ? `$2b$${stored.slice(4)}` : stored;
  return bcrypt.compare(input.subarray(0, BCRYPT_MAX_BYTES), normalised);
}

/**
 * Verifies passlib's `bcrypt_sha256`: bcrypt over base64(HMAC-SHA256(key = the salt text,
 * password)) — 44 bytes whatever the password's length, so nothing is truncated (version 1
 * used a plain SHA-256 instead of the HMAC).
 */
export async function verifyPreHashedBcrypt(input: Buffer, stored: string): Promise<boolean> {
  const match = PRE_HASHED.exec(stored);
  if (!match) unsupported('not a valid bcrypt-sha256 hash');
  const version = match[1] === undefined ? 1 : 2;
  const ident = (match[1] ?? match[3]) as string;
  const cost = Number(match[2] ?? match[4]);
  const salt = match[5] as string;
  checkCost(cost);
  const inner = `$${ident === '2a' ? '2a' : '2b'}$${String(cost).padStart(2, '0')}$${salt}${match[6]}`;
  return bcrypt.compare(preHash(input, salt, version), inner);
}

/** Makes a passlib-compatible `$bcrypt-sha256$v=2,…` hash at `cost`. */
export async function hashPreHashedBcrypt(input: Buffer, cost: number): Promise<string> {
  const settings = await bcrypt.genSalt(cost, 'b'); // "$2b$<cost>$<22-character salt>"
  const salt = settings.slice(7, 29);
  const full = await bcrypt.hash(preHash(input, salt, 2), settings);
  return `$bcrypt-sha256$v=2,t=2b,r=${cost}$${salt}$${full.slice(29)}`;
}

/**
 * Whether a `bcrypt-sha256` hash is in the format `hashPreHashedBcrypt` makes today: passlib's
 * version 2 (HMAC pre-hash) over `$2b$`. Version 1 (a plain SHA-256 pre-hash) and the `$2a$`
 * variant still verify but should be rehashed.
 */
export function isCurrentPreHashedBcrypt(stored: string): boolean {
  return PRE_HASHED.exec(stored)?.[1] === '2b';
}

/** The cost of a bcrypt or bcrypt-sha256 hash. */
export function bcryptCost(stored: string): number {
  const plain = PLAIN.exec(stored);
  if (plain) return Number(plain[2]);
  const pre = PRE_HASHED.exec(stored);
  return Number(pre?.[2] ?? pre?.[4] ?? 0);
}

function preHash(input: Buffer, salt: string, version: 1 | 2): string {
  const digest =
    version === 2
      ? hmacSha256(Buffer.from(salt, 'ascii'), input)
      : createHash('sha256').update(input).digest();
  return digest.toString('base64');
}

function checkCost(cost: number): void {
  if (cost < 4 || cost > 20) unsupported('bcrypt cost is out of range (4-20)');
}
