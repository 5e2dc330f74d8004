import { createAeadKey, open, seal } from '../crypto/aead.js';
import { DecryptionFailed } from '../errors/index.js';

/** A wrapped 32-byte file key: ciphertext and tag. */
export const WRAPPED_KEY_LENGTH = 48;
/** Every wrapping key is used once (fresh salt or ephemeral key), so a zero nonce is safe. */
const ZERO_NONCE = Buffer.alloc(12);

/**
 * Wraps the file key with AES-256-GCM under a single-use `wrappingKey`; `label` (the stanza
 * type's name, with more of the stanza for some types) is the associated data, so a stanza body
 * cannot be read as another type.
 */
export function wrapFileKey(wrappingKey: Buffer, fileKey: Buffer, label: string | Buffer): Buffer {
  const key = createAeadKey('aes-256-gcm', wrappingKey);
  wrappingKey.fill(0);
  return seal(key, ZERO_NONCE, fileKey, Buffer.from(label));
}

/** Opens a file key wrapped by {@link wrapFileKey}; throws `ERR_DECRYPTION_FAILED`. */
export function unwrapFileKey(
  wrappingKey: Buffer,
  wrapped: Buffer,
  label: string | Buffer,
): Buffer {
  if (wrapped.length !== WRAPPED_KEY_LENGTH) throw new DecryptionFailed();
  const key = createAeadKey('aes-256-gcm', wrappingKey);
  wrappingKey.fill(0);
  return open(key, ZERO_NONCE, wrapped, Buffer.from(label));
}
