import { describe, expect, it } from 'vitest';
import { Keyring } from '../crypto/index.js';
import { createFieldCipher } from './field-cipher.js';
import { createKeyringKms } from './field-kms.js';

const needs = {
  code: 'ERR_INVALID_ARGUMENT',
  message: 'createFieldCipher needs { keyring } or { kms }',
};

function keyring() {
  const k = new Keyring();
  k.createKey('default');
  return k;
}

describe('createFieldCipher options', () => {
  it('takes keyring mode for a keyring, KMS mode for a KMS, and a KMS over a keyring when given both', () => {
    const k = keyring();
    expect(createFieldCipher({ keyring: k }).mode).toBe('keyring');
    expect(createFieldCipher({ kms: createKeyringKms(k) }).mode).toBe('kms');
    expect(createFieldCipher({ kms: createKeyringKms(k), keyring: k }).mode).toBe('kms');
    // An option present but undefined counts as absent (spread configuration objects).
    expect(createFieldCipher({ keyring: k, kms: undefined } as never).mode).toBe('keyring');
  });

  it('refuses anything without a keyring or a KMS, saying what it needs', () => {
    for (const options of [
      null,
      undefined,
      'keyring',
      42,
      {},
      { keyring: undefined },
      { kms: undefined },
    ]) {
      expect(() => createFieldCipher(options as never), String(options)).toThrow(
        expect.objectContaining(needs),
      );
    }
  });

  it('names the missing key, and refuses a deterministic key for randomised encryption', () => {
    const k = new Keyring();
    expect(() => createFieldCipher({ keyring: k, keyName: 'main' })).toThrow(
      expect.objectContaining({
        code: 'ERR_KEY_NOT_FOUND',
        message:
          'the keyring has no key "main" (create one with custos keyring create, or pass keyName)',
      }),
    );
    k.createKey('siv', { algorithm: 'aes-256-gcm-siv' });
    expect(() => createFieldCipher({ keyring: k, keyName: 'siv' })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message:
          'key "siv" is deterministic; field encryption needs a randomised key (aes-256-gcm)',
      }),
    );
  });
});
