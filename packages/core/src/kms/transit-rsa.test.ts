import { constants, generateKeyPairSync, publicEncrypt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rsaOaepDecrypt, rsaOaepEncrypt } from './transit-rsa.js';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

describe('RSA-OAEP with SHA-256 (Vault) and SHA-1 (AWS RSAES_OAEP_SHA_1)', () => {
  it('round-trips with each hash, and one hash never opens the other', () => {
    const plaintext = Buffer.from('a data key, 32 bytes long, ok!!!');
    const sha256 = rsaOaepEncrypt(publicKey, plaintext);
    const sha1 = rsaOaepEncrypt(publicKey, plaintext, 'sha1');
    expect(rsaOaepDecrypt(privateKey, sha256)).toEqual(plaintext);
    expect(rsaOaepDecrypt(privateKey, sha1, 'sha1')).toEqual(plaintext);
    expect(() => rsaOaepDecrypt(privateKey, sha1)).toThrow(/decryption error/);
    expect(() => rsaOaepDecrypt(privateKey, sha256, 'sha1')).toThrow(/decryption error/);
    // What node:crypto makes with the same parameters opens too.
    const outside = publicEncrypt(
      { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      plaintext,
    );
    expect(rsaOaepDecrypt(privateKey, outside, 'sha1')).toEqual(plaintext);
  });

  it('takes at most modulus − 2·hash − 2 bytes: 190 with SHA-256, 214 with SHA-1 (2048 bits)', () => {
    expect(rsaOaepEncrypt(publicKey, Buffer.alloc(190)).length).toBe(256);
    expect(() => rsaOaepEncrypt(publicKey, Buffer.alloc(191))).toThrow(/at most 190 bytes/);
    expect(rsaOaepEncrypt(publicKey, Buffer.alloc(214), 'sha1').length).toBe(256);
    expect(() => rsaOaepEncrypt(publicKey, Buffer.alloc(215), 'sha1')).toThrow(/at most 214 bytes/);
  });
});
