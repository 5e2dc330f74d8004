/**
 * `@custos/core/internal/aead`: AEAD with a nonce the caller chooses, for formats that carry
 * their own nonce (the server's root-key wrap of its barrier keyring). Choosing a nonce is the
 * caller's responsibility: a repeated nonce under one key breaks AES-GCM. Applications encrypt
 * with a `Keyring` (`@custos/core/crypto`), which draws every nonce itself.
 *
 * Internal and unversioned: not part of the library's promise. Any release may change or remove
 * any of it; only `@custos/server` imports it.
 *
 * @example
 * ```ts
 * import { createAeadKey, open, seal } from '@custos/core/internal/aead';
 * const nonce = randomBytes(12);
 * const sealed = seal(createAeadKey('aes-256-gcm', key), nonce, 'data', aad);
 * ```
 * @module
 */
export { type AeadKey, createAeadKey, open, seal } from '../crypto/aead.js';
