/**
 * Password hashing: Argon2id with OWASP's parameters in PHC format, verification of legacy
 * bcrypt, bcrypt-sha256, scrypt and PBKDF2-SHA256 hashes with `needsRehash` for transparent
 * upgrades on login, and optional peppers with ids so they can rotate. See
 * `docs/passwords-and-api-keys.md` for the formats accepted.
 *
 * @example
 * ```ts
 * import { hashPassword, verifyPassword } from '@custos/core/passwords';
 * const stored = await hashPassword('correct horse battery staple'); // "$argon2id$v=19$m=19456,t=2,p=1$…"
 * const { valid, needsRehash } = await verifyPassword('correct horse battery staple', stored);
 * ```
 * @module
 */
import { createPasswordHasher, type PasswordOptions, type PasswordVerification } from './hasher.js';
import type { PasswordInput } from './input.js';

export type { PepperSet, PepperValue } from '../lib/pepper.js';
export { type Argon2Parameters, OWASP_ARGON2ID } from './argon2.js';
export { BCRYPT_MAX_BYTES } from './bcrypt.js';
export {
  createPasswordHasher,
  type PasswordAlgorithm,
  type PasswordHasher,
  type PasswordOptions,
  type PasswordVerification,
} from './hasher.js';
export { MAX_PASSWORD_BYTES, type PasswordInput } from './input.js';
export { MIN_PBKDF2_ROUNDS } from './pbkdf2.js';
export type { PasswordScheme } from './schemes.js';

/**
 * Hashes a password (Argon2id, OWASP parameters, PHC string, unless `options` say otherwise).
 *
 * @example
 * ```ts
 * await users.insert({ email, passwordHash: await hashPassword(form.password) });
 * ```
 */
export function hashPassword(password: PasswordInput, options?: PasswordOptions): Promise<string> {
  return createPasswordHasher(options).hash(password);
}

/**
 * Verifies a password against a stored hash of any accepted format and says whether the hash
 * should be replaced by `hashPassword(password)`.
 *
 * @example
 * ```ts
 * const { valid, needsRehash } = await verifyPassword(form.password, user.passwordHash);
 * if (valid && needsRehash) await users.setHash(user.id, await hashPassword(form.password));
 * ```
 */
export function verifyPassword(
  password: PasswordInput,
  stored: string,
  options?: PasswordOptions,
): Promise<PasswordVerification> {
  return createPasswordHasher(options).verify(password, stored);
}

/**
 * Whether a stored hash differs from what `hashPassword` would make with these options.
 *
 * @example
 * ```ts
 * const legacyUsers = rows.filter((u) => passwordNeedsRehash(u.passwordHash)).length;
 * ```
 */
export function passwordNeedsRehash(stored: string, options?: PasswordOptions): boolean {
  return createPasswordHasher(options).needsRehash(stored);
}
