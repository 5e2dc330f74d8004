import { pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { constantTimeEqual } from '../crypto/hmac.js';
import { unsupported } from './input.js';

const pbkdf2Async = promisify(pbkdf2);

// passlib: `$pbkdf2-sha256$<rounds>$<salt>$<hash>` in "adapted base64" (`.` for `+`, no padding).
const PASSLIB = /^\$pbkdf2-sha256\$(\d{1,8})\$([./A-Za-z0-9]+)\$([./A-Za-z0-9]{43})$/;
// Django: `pbkdf2_sha256$<iterations>$<salt text>$<base64 hash>`.
const DJANGO = /^pbkdf2_sha256\$(\d{1,8})\$([^$]{1,128})\$([A-Za-z0-9+/]{43}=)$/;
const MAX_ROUNDS = 10_000_000;

/**
 * OWASP (2023) minimum for PBKDF2-HMAC-SHA256, and the default where FIPS requires PBKDF2.
 *
 * @example
 * ```ts
 * createPasswordHasher({ algorithm: 'pbkdf2-sha256', pbkdf2Rounds: MIN_PBKDF2_ROUNDS });
 * ```
 */
export const MIN_PBKDF2_ROUNDS = 600_000;

export const isPbkdf2 = (stored: string) =>
  stored.startsWith('$pbkdf2-sha256$') || stored.startsWith('pbkdf2_sha256$');

const fromAdaptedBase64 = (text: string) => Buffer.from(text.replaceAll('.', '+'), 'base64');
const toAdaptedBase64 = (bytes: Buffer) =>
  bytes.toString('base64').replace(/=+$/, '').replaceAll('+', '.');

/** Verifies a passlib or Django PBKDF2-SHA256 hash. */
export async function verifyPbkdf2(input: Buffer, stored: string): Promise<boolean> {
  const { rounds, salt, expected } = parsePbkdf2(stored);
  const actual = await pbkdf2Async(input, salt, rounds, expected.length, 'sha256');
  return constantTimeEqual(actual, expected);
}

/** Makes a passlib-format PBKDF2-SHA256 hash (16-byte salt, 32-byte key). */
export async function hashPbkdf2(input: Buffer, rounds: number): Promise<string> {
  const salt = randomBytes(16);
  const key = await pbkdf2Async(input, salt, rounds, 32, 'sha256');
  return `$pbkdf2-sha256$${rounds}$${toAdaptedBase64(salt)}$${toAdaptedBase64(key)}`;
}

/** The iteration count of a PBKDF2 hash. */
export function pbkdf2Rounds(stored: string): number {
  return parsePbkdf2(stored).rounds;
}

function parsePbkdf2(stored: string): { rounds: number; salt: Buffer; expected: Buffer } {
  const passlib = PASSLIB.exec(stored);
  const django = passlib ? null : DJANGO.exec(stored);
  const match = passlib ?? django;
  if (!match) return unsupported('not a valid PBKDF2-SHA256 hash');
  const rounds = Number(match[1]);
  if (rounds < 1 || rounds > MAX_ROUNDS) unsupported('PBKDF2 rounds are out of range');
  return passlib
    ? {
        rounds,
        salt: fromAdaptedBase64(match[2] as string),
        expected: fromAdaptedBase64(match[3] as string),
      }
    : {
        rounds,
        salt: Buffer.from(match[2] as string, 'utf8'),
        expected: Buffer.from(match[3] as string, 'base64'),
      };
}
