import {
  type CipherGCMTypes,
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  type KeyObject,
} from 'node:crypto';
import { createRequire } from 'node:module';
import type { gcmsiv as GcmSiv } from '@noble/ciphers/aes.js';
import { CustosError, DecryptionFailed } from '../errors/index.js';
import { type BytesLike, toBuffer } from '../lib/bytes.js';

/**
 * The AEAD algorithms custos uses. `aes-256-gcm-siv` is used deterministically (fixed nonce)
 * for equality search: it reveals only whether two plaintexts under the same key and associated
 * data are equal.
 */
export type AeadAlgorithm = 'aes-256-gcm' | 'chacha20-poly1305' | 'aes-256-gcm-siv';

/** Fixed parameters of each algorithm. `id` is the algorithm byte in the envelope. */
export interface AeadParameters {
  readonly id: number;
  readonly keyLength: 32;
  readonly nonceLength: number;
  readonly tagLength: 16;
  /** Whether the algorithm needs a fresh random nonce per message (then usage is counted). */
  readonly randomNonce: boolean;
}

/**
 * AES-GCM-SIV from @noble/ciphers, loaded by its first use: the module builds its AES tables
 * (1.25 MiB of typed arrays) as it loads, and a process that never searches by equality (the
 * server, most applications) would hold them for its life. Synchronous: Node 20.19+ and 22.12+
 * require ES modules without top-level await.
 */
let gcmsivLoaded: typeof GcmSiv | undefined;
const gcmsiv = (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array) => {
  gcmsivLoaded ??= (
    createRequire(import.meta.url)('@noble/ciphers/aes.js') as { gcmsiv: typeof GcmSiv }
  ).gcmsiv;
  return gcmsivLoaded(key, nonce, aad);
};

/**
 * Parameters per algorithm.
 *
 * @example
 * ```ts
 * aeadParameters['aes-256-gcm'].nonceLength; // 12
 * ```
 */
export const aeadParameters: Readonly<Record<AeadAlgorithm, AeadParameters>> = {
  'aes-256-gcm': { id: 1, keyLength: 32, nonceLength: 12, tagLength: 16, randomNonce: true },
  'chacha20-poly1305': { id: 2, keyLength: 32, nonceLength: 12, tagLength: 16, randomNonce: true },
  'aes-256-gcm-siv': { id: 3, keyLength: 32, nonceLength: 0, tagLength: 16, randomNonce: false },
};

const algorithmsById = new Map<number, AeadAlgorithm>(
  Object.entries(aeadParameters).map(([name, p]) => [p.id, name as AeadAlgorithm]),
);

/** Returns the algorithm with envelope id `id`, or undefined. */
export function algorithmById(id: number): AeadAlgorithm | undefined {
  return algorithmsById.get(id);
}

/** Type guard for algorithm names read from untrusted input. */
export function isAeadAlgorithm(value: unknown): value is AeadAlgorithm {
  return typeof value === 'string' && Object.hasOwn(aeadParameters, value);
}

/**
 * A symmetric key prepared for one algorithm. Node's algorithms keep the material in a
 * `KeyObject` (outside the JS heap); the SIV implementation needs the raw bytes.
 */
export interface AeadKey {
  readonly algorithm: AeadAlgorithm;
  /** @internal */
  readonly keyObject: KeyObject;
  /** @internal raw bytes, kept only for algorithms implemented in JS. */
  readonly raw: Uint8Array | undefined;
}

/**
 * Prepares 32 bytes of key material for `algorithm`.
 *
 * @example
 * ```ts
 * const key = createAeadKey('aes-256-gcm', randomBytes(32));
 * ```
 */
export function createAeadKey(algorithm: AeadAlgorithm, material: Uint8Array): AeadKey {
  if (!isAeadAlgorithm(algorithm)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'unknown AEAD algorithm');
  }
  const params = aeadParameters[algorithm];
  if (material.length !== params.keyLength) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `${algorithm} needs a ${params.keyLength}-byte key, got ${material.length} bytes`,
    );
  }
  // createSecretKey copies the bytes out of the heap; wipe the temporary copy it was given.
  const copy = Buffer.from(material);
  const keyObject = createSecretKey(copy);
  copy.fill(0);
  const raw = algorithm === 'aes-256-gcm-siv' ? Uint8Array.from(material) : undefined;
  return { algorithm, keyObject, raw };
}

const SIV_NONCE = new Uint8Array(12);

/**
 * Encrypts `plaintext` (a string is taken as UTF-8) and returns the ciphertext followed by the
 * 16-byte tag.
 *
 * @example
 * ```ts
 * const sealed = seal(key, nonce, 'data', aad);
 * ```
 */
export function seal(
  key: AeadKey,
  nonce: Uint8Array,
  plaintext: BytesLike,
  aad: Uint8Array,
): Buffer {
  return Buffer.concat(sealParts(key, nonce, plaintext, aad));
}

/**
 * {@link seal} returning the pieces (ciphertext, tag) so a caller can concatenate them with its
 * own header in a single copy. Node's ciphers read strings directly, without a UTF-8 copy first.
 *
 * @internal
 */
export function sealParts(
  key: AeadKey,
  nonce: Uint8Array,
  plaintext: BytesLike,
  aad: Uint8Array,
): Buffer[] {
  if (key.algorithm === 'aes-256-gcm-siv') {
    const sealed = gcmsiv(key.raw as Uint8Array, nonce.length ? nonce : SIV_NONCE, aad).encrypt(
      toBuffer(plaintext),
    );
    return [Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length)];
  }
  const cipher = createCipheriv(key.algorithm as CipherGCMTypes, key.keyObject, nonce, {
    authTagLength: 16,
  });
  cipher.setAAD(aad);
  const body =
    typeof plaintext === 'string' ? cipher.update(plaintext, 'utf8') : cipher.update(plaintext);
  const tail = cipher.final();
  return tail.length === 0 ? [body, cipher.getAuthTag()] : [body, tail, cipher.getAuthTag()];
}

/**
 * Authenticates and decrypts `sealed` (ciphertext followed by a 16-byte tag). Any failure,
 * including a tag of the wrong length, throws {@link DecryptionFailed}; no partial plaintext is
 * ever returned. GCM is always opened with `authTagLength: 16` (Node would otherwise accept
 * truncated tags).
 *
 * @example
 * ```ts
 * const plaintext = open(key, nonce, sealed, aad);
 * ```
 */
export function open(key: AeadKey, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  if (sealed.length < 16) throw new DecryptionFailed();
  try {
    if (key.algorithm === 'aes-256-gcm-siv') {
      const plain = gcmsiv(key.raw as Uint8Array, nonce.length ? nonce : SIV_NONCE, aad).decrypt(
        sealed,
      );
      return Buffer.from(plain.buffer, plain.byteOffset, plain.length);
    }
    const bodyLength = sealed.length - 16;
    const decipher = createDecipheriv(key.algorithm as CipherGCMTypes, key.keyObject, nonce, {
      authTagLength: 16,
    });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(bodyLength));
    const body = decipher.update(sealed.subarray(0, bodyLength));
    const tail = decipher.final();
    return tail.length === 0 ? body : Buffer.concat([body, tail]);
  } catch {
    // The underlying error says only "unable to authenticate"; nothing to keep.
    throw new DecryptionFailed();
  }
}
