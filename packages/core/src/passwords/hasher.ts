import { hmacSha256 } from '../crypto/hmac.js';
import { CustosError } from '../errors/index.js';
import { type PepperSet, type ResolvedPeppers, resolvePeppers } from '../lib/pepper.js';
import {
  type Argon2Parameters,
  argon2NeedsRehash,
  hashArgon2id,
  OWASP_ARGON2ID,
} from './argon2.js';
import { bcryptCost, hashPreHashedBcrypt, isCurrentPreHashedBcrypt } from './bcrypt.js';
import { type PasswordInput, passwordBytes } from './input.js';
import { hashPbkdf2, MIN_PBKDF2_ROUNDS, pbkdf2Rounds } from './pbkdf2.js';
import { schemeOf, splitPepper } from './schemes.js';

/**
 * The scheme new hashes use. `argon2id` unless a rule says otherwise: `pbkdf2-sha256` where
 * FIPS 140 validation requires PBKDF2, `bcrypt-sha256` (passlib-compatible, pre-hashed so
 * nothing is truncated) to keep sharing a users table with a passlib application.
 */
export type PasswordAlgorithm = 'argon2id' | 'pbkdf2-sha256' | 'bcrypt-sha256';

/** Options for hashing and verifying passwords. */
export interface PasswordOptions {
  /** Default `argon2id`. */
  readonly algorithm?: PasswordAlgorithm;
  /** Default OWASP: 19456 KiB, 2 iterations, parallelism 1. Lower than 7168 KiB is refused. */
  readonly argon2?: Partial<Argon2Parameters>;
  /** PBKDF2-SHA256 iterations; default and minimum 600,000 (OWASP 2023). */
  readonly pbkdf2Rounds?: number;
  /** bcrypt cost for `bcrypt-sha256`; default 12, minimum 10. */
  readonly bcryptCost?: number;
  /**
   * Optional peppers: the password is HMAC-SHA256'd with the current pepper before hashing,
   * and the pepper's id is stored in front of the hash (`$custos-pepper$id=<id>$argon2id$…`),
   * so a new pepper can take over while hashes made with older ones still verify.
   */
  readonly peppers?: PepperSet;
  /**
   * Refuse stored hashes that carry no pepper (`ERR_PEPPER_REQUIRED`) instead of verifying them
   * and asking for a rehash. Without it, someone who can write the users table can store an
   * unpeppered hash of a password they know. Leave it off while existing hashes are being
   * moved to peppers (each login rehashes one), and turn it on once none is left. Needs `peppers`.
   */
  readonly requirePepper?: boolean;
}

/** The outcome of {@link PasswordHasher.verify}. */
export interface PasswordVerification {
  readonly valid: boolean;
  /**
   * True when the password was right but the stored hash is not what `hash` would make today
   * (legacy scheme, weaker parameters, no or an older pepper): store `hash(password)` now.
   */
  readonly needsRehash: boolean;
}

/** Hashes and verifies passwords under one set of options; see {@link createPasswordHasher}. */
export interface PasswordHasher {
  hash(password: PasswordInput): Promise<string>;
  verify(password: PasswordInput, stored: string): Promise<PasswordVerification>;
  needsRehash(stored: string): boolean;
}

/**
 * Creates a password hasher. New hashes are Argon2id with OWASP's parameters in PHC format;
 * `verify` also accepts legacy bcrypt (`$2a$`, `$2b$`, `$2y$`), passlib's `bcrypt_sha256`,
 * scrypt and PBKDF2-SHA256 hashes (formats in docs/passwords-and-api-keys.md) and reports
 * `needsRehash`, so a login can upgrade a legacy hash without anyone noticing.
 *
 * @example
 * ```ts
 * const passwords = createPasswordHasher({ peppers: { currentId: '2025', peppers: { '2025': pepper } } });
 * const { valid, needsRehash } = await passwords.verify(form.password, user.passwordHash);
 * if (!valid) throw new PermissionDenied();
 * if (needsRehash) await users.update(user.id, { passwordHash: await passwords.hash(form.password) });
 * ```
 */
export function createPasswordHasher(options: PasswordOptions = {}): PasswordHasher {
  const policy = resolvePolicy(options);
  const peppers = options.peppers === undefined ? undefined : resolvePeppers(options.peppers);
  const requirePepper = options.requirePepper === true;
  if (requirePepper && peppers === undefined) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'requirePepper needs peppers to be configured');
  }

  const needsRehash = (stored: string): boolean => {
    const { pepperId, inner } = splitPepper(stored);
    if (pepperId !== peppers?.currentId) return true;
    const { scheme } = schemeOf(inner);
    switch (policy.algorithm) {
      case 'argon2id':
        return scheme !== 'argon2' || argon2NeedsRehash(inner, policy.argon2);
      case 'pbkdf2-sha256':
        return scheme !== 'pbkdf2-sha256' || pbkdf2Rounds(inner) < policy.pbkdf2Rounds;
      case 'bcrypt-sha256':
        return (
          scheme !== 'bcrypt-sha256' ||
          !isCurrentPreHashedBcrypt(inner) ||
          bcryptCost(inner) < policy.bcryptCost
        );
    }
  };

  return {
    async hash(password) {
      const bytes = passwordBytes(password);
      if (bytes.length === 0) throw new CustosError('ERR_INVALID_ARGUMENT', 'password is empty');
      const input = peppers ? pepper(peppers, peppers.currentId, bytes) : bytes;
      const inner =
        policy.algorithm === 'argon2id'
          ? await hashArgon2id(input, policy.argon2)
          : policy.algorithm === 'pbkdf2-sha256'
            ? await hashPbkdf2(input, policy.pbkdf2Rounds)
            : await hashPreHashedBcrypt(input, policy.bcryptCost);
      return peppers ? `$custos-pepper$id=${peppers.currentId}${inner}` : inner;
    },
    async verify(password, stored) {
      const bytes = passwordBytes(password);
      const { pepperId, inner } = splitPepper(stored);
      const scheme = schemeOf(inner);
      if (pepperId === undefined && requirePepper) {
        throw new CustosError(
          'ERR_PEPPER_REQUIRED',
          'the stored hash carries no pepper, and this hasher requires one (requirePepper)',
        );
      }
      if (bytes.length === 0) return { valid: false, needsRehash: false };
      let input = bytes;
      if (pepperId !== undefined) {
        if (peppers === undefined) {
          throw new CustosError(
            'ERR_PEPPER_UNKNOWN',
            `the hash names pepper "${pepperId}" but no peppers are configured`,
          );
        }
        input = pepper(peppers, pepperId, bytes);
      }
      const valid = await scheme.verify(input, inner);
      return { valid, needsRehash: valid && needsRehash(stored) };
    },
    needsRehash,
  };
}

/**
 * The peppered input is the base64 text of HMAC-SHA256(pepper, password): 44 bytes, never a
 * NUL byte (bcrypt would stop there) and valid UTF-8 (@node-rs/argon2's verify requires it).
 */
function pepper(peppers: ResolvedPeppers, id: string, password: Buffer): Buffer {
  return Buffer.from(hmacSha256(peppers.get(id), password).toString('base64'), 'ascii');
}

function resolvePolicy(options: PasswordOptions) {
  const algorithm = options.algorithm ?? 'argon2id';
  if (!['argon2id', 'pbkdf2-sha256', 'bcrypt-sha256'].includes(algorithm)) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'algorithm must be argon2id, pbkdf2-sha256 or bcrypt-sha256',
    );
  }
  const argon2 = { ...OWASP_ARGON2ID, ...options.argon2 };
  atLeast(argon2.memoryKiB, 7168, 'argon2.memoryKiB');
  atLeast(argon2.iterations, 1, 'argon2.iterations');
  atLeast(argon2.parallelism, 1, 'argon2.parallelism');
  const pbkdf2Rounds = atLeast(
    options.pbkdf2Rounds ?? MIN_PBKDF2_ROUNDS,
    MIN_PBKDF2_ROUNDS,
    'pbkdf2Rounds',
  );
  const bcryptCost = atLeast(options.bcryptCost ?? 12, 10, 'bcryptCost');
  if (bcryptCost > 20)
    throw new CustosError('ERR_INVALID_ARGUMENT', 'bcryptCost must be at most 20');
  return { algorithm, argon2, pbkdf2Rounds, bcryptCost };
}

function atLeast(value: number, minimum: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new CustosError('ERR_INVALID_ARGUMENT', `${what} must be a whole number ≥ ${minimum}`);
  }
  return value;
}
