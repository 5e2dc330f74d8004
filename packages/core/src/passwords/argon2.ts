import { type Algorithm, hash, parseOptions, verify } from '@node-rs/argon2';
import { unsupported } from './input.js';

/** Argon2id cost parameters. */
export interface Argon2Parameters {
  /** Memory in KiB; OWASP's 19 MiB = 19456. */
  readonly memoryKiB: number;
  /** Passes over memory (t); OWASP: 2. */
  readonly iterations: number;
  /** Lanes (p); OWASP: 1. */
  readonly parallelism: number;
}

/**
 * OWASP Password Storage Cheat Sheet: Argon2id, m=19456 (19 MiB), t=2, p=1.
 *
 * @example
 * ```ts
 * createPasswordHasher({ argon2: { ...OWASP_ARGON2ID, memoryKiB: 47_104, iterations: 1 } });
 * ```
 */
export const OWASP_ARGON2ID: Argon2Parameters = {
  memoryKiB: 19_456,
  iterations: 2,
  parallelism: 1,
};

// @node-rs/argon2 declares these as const enums, which isolated modules cannot read.
const ARGON2ID = 2 as Algorithm;
const VERSION_0x13 = 1;

/** `$argon2id$v=19$m=…,t=…,p=…$salt$hash` (PHC string format, 16-byte salt, 32-byte hash). */
export function hashArgon2id(input: Uint8Array, parameters: Argon2Parameters): Promise<string> {
  return hash(input, {
    algorithm: ARGON2ID,
    memoryCost: parameters.memoryKiB,
    timeCost: parameters.iterations,
    parallelism: parameters.parallelism,
    outputLen: 32,
  });
}

export const ARGON2_PREFIX = /^\$argon2(id|i|d)\$/;

/** Verifies any Argon2 variant in PHC form. */
export async function verifyArgon2(input: Uint8Array, stored: string): Promise<boolean> {
  const options = readArgon2(stored);
  if (options.memoryKiB > 4 * 1024 * 1024 || options.iterations > 100) {
    unsupported('argon2 parameters are out of range');
  }
  return verify(stored, input);
}

/** Whether an Argon2 hash is weaker than `wanted` (or not Argon2id, or not version 19). */
export function argon2NeedsRehash(stored: string, wanted: Argon2Parameters): boolean {
  const options = readArgon2(stored);
  return (
    options.algorithm !== ARGON2ID ||
    options.version !== VERSION_0x13 ||
    options.memoryKiB < wanted.memoryKiB ||
    options.iterations < wanted.iterations
  );
}

function readArgon2(stored: string) {
  try {
    const parsed = parseOptions(stored);
    return {
      algorithm: parsed.algorithm,
      version: parsed.version as number,
      memoryKiB: parsed.memoryCost,
      iterations: parsed.timeCost,
    };
  } catch {
    return unsupported('not a valid argon2 PHC string');
  }
}
