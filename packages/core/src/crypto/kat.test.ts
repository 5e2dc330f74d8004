import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type AeadVector,
  aes256GcmSivVectors,
  aes256GcmVectors,
  chacha20Poly1305Vectors,
  hkdfSha256Vectors,
} from '../../test/crypto-vectors.js';
import { type AeadAlgorithm, createAeadKey, open, seal } from './aead.js';
import { hkdfSha256 } from './hkdf.js';

const hex = (s: string) => Buffer.from(s, 'hex');

function sealHex(algorithm: AeadAlgorithm, key: string, nonce: string, pt: string, aad: string) {
  return seal(createAeadKey(algorithm, hex(key)), hex(nonce), hex(pt), hex(aad));
}

function aeadVectors(algorithm: AeadAlgorithm, vectors: readonly AeadVector[]) {
  describe(algorithm, () => {
    it.each(vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
      const sealed = sealHex(algorithm, v.key, v.nonce, v.plaintext, v.aad);
      expect(sealed.toString('hex')).toBe(v.ciphertext + v.tag);
      const key = createAeadKey(algorithm, hex(v.key));
      expect(open(key, hex(v.nonce), sealed, hex(v.aad)).toString('hex')).toBe(v.plaintext);
    });
  });
}

aeadVectors('aes-256-gcm', aes256GcmVectors);
aeadVectors('chacha20-poly1305', chacha20Poly1305Vectors);

describe('aes-256-gcm-siv (RFC 8452 C.2)', () => {
  it.each(aes256GcmSivVectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    expect(sealHex('aes-256-gcm-siv', v.key, v.nonce, v.plaintext, v.aad).toString('hex')).toBe(
      v.result,
    );
    const key = createAeadKey('aes-256-gcm-siv', hex(v.key));
    expect(open(key, hex(v.nonce), hex(v.result), hex(v.aad)).toString('hex')).toBe(v.plaintext);
  });
});

describe('HKDF-SHA256 (RFC 5869 A.1-A.3)', () => {
  it.each(hkdfSha256Vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const okm = hkdfSha256(hex(v.ikm), hex(v.info), { salt: hex(v.salt), length: v.length });
    expect(okm.toString('hex')).toBe(v.okm);
    // The extract step, checked on its own: PRK = HMAC-SHA256(salt or zeros, IKM).
    const salt = v.salt === '' ? Buffer.alloc(32) : hex(v.salt);
    expect(createHmac('sha256', salt).update(hex(v.ikm)).digest('hex')).toBe(v.prk);
  });
});

describe('tag length', () => {
  it('refuses a GCM tag shortened to 4 bytes (Node accepts those without authTagLength)', () => {
    const v = aes256GcmVectors[3] as AeadVector;
    const sealed = hex(v.ciphertext + v.tag.slice(0, 8));
    const key = createAeadKey('aes-256-gcm', hex(v.key));
    // Shortened tag: the last 16 bytes are no longer the tag, and a 4-byte tag is never tried.
    expect(() => open(key, hex(v.nonce), sealed, hex(v.aad))).toThrow(
      expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED' }),
    );
  });
});
