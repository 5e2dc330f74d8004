import { ARGON2_PREFIX, verifyArgon2 } from './argon2.js';
import {
  isPlainBcrypt,
  isPreHashedBcrypt,
  verifyPlainBcrypt,
  verifyPreHashedBcrypt,
} from './bcrypt.js';
import { unsupported } from './input.js';
import { isPbkdf2, verifyPbkdf2 } from './pbkdf2.js';
import { isScrypt, verifyScrypt } from './scrypt.js';

/** Every stored-hash scheme `verifyPassword` reads. */
export type PasswordScheme = 'argon2' | 'bcrypt' | 'bcrypt-sha256' | 'scrypt' | 'pbkdf2-sha256';

const SCHEMES: readonly {
  readonly scheme: PasswordScheme;
  readonly matches: (stored: string) => boolean;
  readonly verify: (input: Buffer, stored: string) => Promise<boolean>;
}[] = [
  { scheme: 'argon2', matches: (s) => ARGON2_PREFIX.test(s), verify: verifyArgon2 },
  { scheme: 'bcrypt-sha256', matches: isPreHashedBcrypt, verify: verifyPreHashedBcrypt },
  { scheme: 'bcrypt', matches: isPlainBcrypt, verify: verifyPlainBcrypt },
  { scheme: 'scrypt', matches: isScrypt, verify: verifyScrypt },
  { scheme: 'pbkdf2-sha256', matches: isPbkdf2, verify: verifyPbkdf2 },
];

/** The scheme of a stored hash (pepper prefix already removed). */
export function schemeOf(stored: string) {
  const found = SCHEMES.find((s) => s.matches(stored));
  if (found === undefined) {
    return unsupported(
      'unrecognised format (see docs/passwords-and-api-keys.md for the accepted ones)',
    );
  }
  return found;
}

const PEPPERED = /^\$custos-pepper\$id=([A-Za-z0-9_-]{1,32})(\$.+)$/;

/** Splits `$custos-pepper$id=<id>$…` into the pepper id and the inner hash. */
export function splitPepper(stored: string): { pepperId: string | undefined; inner: string } {
  if (typeof stored !== 'string' || stored.length === 0 || stored.length > 1024) {
    return unsupported('must be a non-empty string of at most 1024 characters');
  }
  if (!stored.startsWith('$custos-pepper$')) return { pepperId: undefined, inner: stored };
  const match = PEPPERED.exec(stored);
  if (!match) return unsupported('malformed $custos-pepper$ prefix');
  return { pepperId: match[1], inner: match[2] as string };
}
