import { describe, expect, it } from 'vitest';
import { Keyring } from '../crypto/index.js';
import { createFieldCipher } from './field-cipher.js';
import { createKeyringKms } from './field-kms.js';

const ctx = { table: 'users', column: 'email', rowId: 3 };
const det = { ...ctx, deterministic: true };

function keyring(withDeterministic = true) {
  const k = new Keyring();
  k.createKey('default');
  k.createKey('kek');
  if (withDeterministic) k.createKey('deterministic', { algorithm: 'aes-256-gcm-siv' });
  return k;
}

describe('field cipher modes', () => {
  it('refuses a deterministic value read as randomised, saying which it holds (keyring mode)', () => {
    const fc = createFieldCipher({ keyring: keyring() });
    const stored = fc.encrypt('jane', det);
    expect(() => fc.decrypt(stored, ctx)).toThrow(
      expect.objectContaining({
        code: 'ERR_DECRYPTION_FAILED',
        message:
          'decryption failed: users.email holds a deterministic ciphertext but the context says randomised',
      }),
    );
    expect(fc.decrypt(stored, det)).toBe('jane');
  });

  it('refuses either mode read as the other (KMS mode)', async () => {
    const k = keyring();
    const fc = createFieldCipher({ kms: createKeyringKms(k, { keyName: 'kek' }), keyring: k });
    const deterministic = await fc.encrypt('jane', det);
    const randomised = await fc.encrypt('jane', ctx);
    await expect(fc.decrypt(deterministic, ctx)).rejects.toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
      message:
        'decryption failed: users.email holds a deterministic ciphertext but the context says otherwise',
    });
    await expect(fc.decrypt(randomised, det)).rejects.toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
      message:
        'decryption failed: users.email holds a randomised ciphertext but the context says otherwise',
    });
  });

  it('re-encrypts whichever mode a value holds, without the context saying so', () => {
    const fc = createFieldCipher({ keyring: keyring() });
    const deterministic = fc.encrypt('jane', det);
    expect(fc.reencrypt(deterministic, ctx)).toBe(deterministic);
    const randomised = fc.encrypt('jane', ctx);
    const moved = fc.reencrypt(randomised, det);
    expect(moved).not.toBe(randomised);
    expect(fc.decrypt(moved, ctx)).toBe('jane');
  });

  it('reports only the randomised key as current when there is no deterministic key', async () => {
    const k = keyring(false);
    const fc = createFieldCipher({ keyring: k });
    expect(fc.currentKeys()).toStrictEqual({
      randomized: { keyId: k.info('default').id, keyVersion: 1 },
    });
    const kms = createFieldCipher({ kms: createKeyringKms(k, { keyName: 'kek' }), keyring: k });
    expect(await kms.currentKeys()).toStrictEqual({
      randomized: { keyId: k.info('kek').id, keyVersion: 1 },
    });
    const bare = createFieldCipher({ kms: createKeyringKms(k, { keyName: 'kek' }) });
    const stored = await bare.encrypt('x', ctx);
    expect(await bare.describe(stored)).toStrictEqual({
      keyId: k.info('kek').id,
      keyVersion: 1,
      keyName: undefined,
      deterministic: false,
      current: true,
    });
  });
});
