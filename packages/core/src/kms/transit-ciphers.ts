import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { createAeadKey, open, seal } from '../crypto/aead.js';
import { CustosError, DecryptionFailed } from '../errors/index.js';
import type { TransitKeyType } from './key-types.js';

/**
 * A transit version's symmetric key, ready to seal and open: AES-256-GCM and ChaCha20-Poly1305
 * through custos's AEAD layer, AES-128-GCM (`aes128-gcm96`, transit only) through node:crypto
 * directly. Every open checks a full 16-byte tag.
 */
export interface TransitCipherKey {
  /** The key, as the source of derived keys and the convergent nonce key. */
  readonly keyObject: KeyObject;
  /** Ciphertext followed by the 16-byte tag. */
  seal(nonce: Buffer, plaintext: Buffer, aad: Buffer): Buffer;
  /** Throws on any failure (the caller reports it in Vault's words). */
  open(nonce: Buffer, sealed: Buffer, aad: Buffer): Buffer;
}

function aes128Gcm(material: Buffer): TransitCipherKey {
  if (material.length !== 16)
    throw new CustosError('ERR_INVALID_ARGUMENT', 'aes128-gcm96 needs a 16-byte key');
  const keyObject = createSecretKey(Buffer.from(material));
  return {
    keyObject,
    seal(nonce, plaintext, aad) {
      const cipher = createCipheriv('aes-128-gcm', keyObject, nonce, { authTagLength: 16 });
      cipher.setAAD(aad);
      return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    },
    open(nonce, sealed, aad) {
      if (sealed.length < 16) throw new DecryptionFailed();
      const body = sealed.length - 16;
      const decipher = createDecipheriv('aes-128-gcm', keyObject, nonce, { authTagLength: 16 });
      decipher.setAAD(aad);
      decipher.setAuthTag(sealed.subarray(body));
      return Buffer.concat([decipher.update(sealed.subarray(0, body)), decipher.final()]);
    },
  };
}

/**
 * The cipher key of a symmetric transit type from its raw material (16 or 32 bytes).
 *
 * @example
 * ```ts
 * const key = transitCipherKey('aes128-gcm96', randomBytes(16));
 * const sealed = key.seal(nonce, plaintext, Buffer.alloc(0));
 * ```
 */
export function transitCipherKey(type: TransitKeyType, material: Buffer): TransitCipherKey {
  if (type === 'aes128-gcm96') return aes128Gcm(material);
  const aead = createAeadKey(
    type === 'chacha20-poly1305' ? 'chacha20-poly1305' : 'aes-256-gcm',
    material,
  );
  return {
    keyObject: aead.keyObject,
    seal: (nonce, plaintext, aad) => seal(aead, nonce, plaintext, aad),
    open: (nonce, sealed, aad) => open(aead, nonce, sealed, aad),
  };
}
