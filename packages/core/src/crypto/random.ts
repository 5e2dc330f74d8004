import { randomBytes } from 'node:crypto';
import { CustosError } from '../errors/index.js';
import { Secret } from '../redaction/secret.js';

/** Text encodings a generated secret can take. */
export type SecretEncoding = 'hex' | 'base64' | 'base64url' | 'alphanumeric';

/** Options for {@link generateSecret}. */
export interface GenerateSecretOptions {
  /** Default `base64url`. */
  readonly encoding?: SecretEncoding;
  /**
   * Random bytes to draw for hex / base64 / base64url (default 32, i.e. 256 bits).
   * For `alphanumeric` this sets the target entropy instead: enough characters are drawn to
   * carry at least `bytes * 8` bits.
   */
  readonly bytes?: number;
  /** Exact number of characters, `alphanumeric` only (overrides `bytes`). */
  readonly length?: number;
}

/** A generated secret and the entropy it carries. */
export interface GeneratedSecret {
  readonly secret: Secret<string>;
  readonly encoding: SecretEncoding;
  /** Entropy in bits, from the generator (not estimated from the text). */
  readonly entropyBits: number;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BITS_PER_ALPHANUMERIC = Math.log2(ALPHANUMERIC.length);
// Largest multiple of 62 below 256: bytes at or above it are rejected to keep the draw uniform.
const ALPHANUMERIC_LIMIT = 256 - (256 % ALPHANUMERIC.length);

/**
 * Generates a random secret from the operating system's CSPRNG, in hex, base64, base64url or
 * alphanumeric form, and states its entropy.
 *
 * @example
 * ```ts
 * const { secret, entropyBits } = generateSecret({ encoding: 'hex', bytes: 32 });
 * entropyBits; // 256
 * writeEnv('SESSION_SECRET', secret.reveal());
 * ```
 */
export function generateSecret(options: GenerateSecretOptions = {}): GeneratedSecret {
  const encoding = options.encoding ?? 'base64url';
  const bytes = options.bytes ?? 32;
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 1024) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'bytes must be an integer from 1 to 1024');
  }
  if (encoding === 'alphanumeric') {
    const length = options.length ?? Math.ceil((bytes * 8) / BITS_PER_ALPHANUMERIC);
    if (!Number.isInteger(length) || length < 1 || length > 4096) {
      throw new CustosError('ERR_INVALID_ARGUMENT', 'length must be an integer from 1 to 4096');
    }
    return {
      secret: new Secret(randomAlphanumeric(length)),
      encoding,
      entropyBits: Math.floor(length * BITS_PER_ALPHANUMERIC),
    };
  }
  if (options.length !== undefined) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'length applies only to alphanumeric secrets');
  }
  if (encoding !== 'hex' && encoding !== 'base64' && encoding !== 'base64url') {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'encoding must be hex, base64, base64url or alphanumeric',
    );
  }
  return {
    secret: new Secret(randomBytes(bytes).toString(encoding)),
    encoding,
    entropyBits: bytes * 8,
  };
}

function randomAlphanumeric(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length - out.length + 8)) {
      if (byte < ALPHANUMERIC_LIMIT && out.length < length) {
        out += ALPHANUMERIC[byte % ALPHANUMERIC.length];
      }
    }
  }
  return out;
}
