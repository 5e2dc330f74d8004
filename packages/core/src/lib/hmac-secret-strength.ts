import { CustosError } from '../errors/index.js';

/** Shortest HMAC secret accepted, in bytes (RFC 7518 §3.2, RFC 2104: at least the hash size). */
export const MIN_HMAC_SECRET_BYTES = 32;

// Values copied from example files and docs rather than generated. A generated secret must
// not match by accident, so these are long or anchored enough that a random 32-byte value
// (hex, base64, base64url) matches with probability below about 1e-9…
const PLACEHOLDERS: readonly RegExp[] = [
  /change[-_ ]?me|placeholder|example|replace[-_ ]?(me|this|with)/i,
  /minimum[-_ ]?\d+[-_ ]?(char|byte)/i,
  /(secret|key|value|token)[-_ ]?(goes[-_ ]?)?here/i,
  /^<.*>$|\$\{.*\}|x{8,}/i,
];
// …while these shorter ones are checked only on single-case text, which a random base64 value
// of that length never is (and hex cannot contain their letters).
const WORDY_PLACEHOLDERS: readonly RegExp[] = [
  /^(your|my|some|the|previous|old|new)[-_ ]/i,
  /[-_ ]here$|sample|dummy|lorem|todo|fixme|\.{3}/i,
  /(insert|enter|put)[-_ ]?(me|this|your|here)/i,
  /^(secret|password|jwt[-_]?secret|supersecret|default|test|dev|development)([-_ .]|$)/i,
];

/** Fewer distinct characters than this cannot come from a random generator at 32+ bytes. */
const MIN_DISTINCT_CHARACTERS = 8;

/**
 * Minimum checks for an HMAC secret (a JWT HS256 secret, a webhook signing secret) taken as
 * text: at least 32 bytes, not a placeholder, not a repeated pattern. Errors name the
 * variable, never the value.
 */
export function checkHmacSecret(name: string, value: string): void {
  const weak = (why: string): never => {
    throw new CustosError(
      'ERR_WEAK_SECRET',
      `${name} ${why}; generate one with \`custos keygen --bytes 32\``,
    );
  };
  if (Buffer.byteLength(value, 'utf8') < MIN_HMAC_SECRET_BYTES) {
    weak(`is shorter than ${MIN_HMAC_SECRET_BYTES} bytes`);
  }
  const singleCase = value === value.toLowerCase() || value === value.toUpperCase();
  const patterns = singleCase ? [...PLACEHOLDERS, ...WORDY_PLACEHOLDERS] : PLACEHOLDERS;
  if (patterns.some((pattern) => pattern.test(value))) {
    weak('looks like a placeholder or example value, not a generated secret');
  }
  if (new Set(value).size < MIN_DISTINCT_CHARACTERS) {
    weak('has too few distinct characters to be random');
  }
}

/**
 * Minimum checks for an HMAC secret given as bytes: at least 32 of them, and not a repeated
 * pattern (fewer than 8 distinct byte values). Errors name the secret, never its bytes.
 */
export function checkHmacSecretBytes(name: string, bytes: Uint8Array): void {
  if (bytes.length < MIN_HMAC_SECRET_BYTES) {
    throw new CustosError(
      'ERR_WEAK_SECRET',
      `${name} is shorter than ${MIN_HMAC_SECRET_BYTES} bytes; generate one with \`custos keygen --bytes 32\``,
    );
  }
  if (new Set(bytes).size < MIN_DISTINCT_CHARACTERS) {
    throw new CustosError('ERR_WEAK_SECRET', `${name} has too few distinct bytes to be random`);
  }
}
