import { describe, expect, it } from 'vitest';
import { Keyring } from './keyring.js';

describe('Keyring key contexts and derived keys', () => {
  it('keeps binary key contexts that are not UTF-8 apart, and a text context equals its bytes', () => {
    const keyring = new Keyring();
    keyring.createKey('k');
    const a = Buffer.from([0xff, 0xfe]);
    const b = Buffer.from([0xff, 0xfd]);
    const sealed = keyring.encrypt('k', 'x', { keyContext: a });
    expect(keyring.decrypt(sealed, { keyContext: Buffer.from(a) }).toString()).toBe('x');
    expect(() => keyring.decrypt(sealed, { keyContext: b })).toThrow(
      expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED' }),
    );
    const text = keyring.encrypt('k', 'y', { keyContext: 'tenant/acme' });
    expect(keyring.decrypt(text, { keyContext: Buffer.from('tenant/acme') }).toString()).toBe('y');
    const da = keyring.deriveKey('k', a).key.export();
    expect(da.equals(keyring.deriveKey('k', b).key.export())).toBe(false);
    expect(
      keyring
        .deriveKey('k', 'purpose')
        .key.export()
        .equals(keyring.deriveKey('k', Buffer.from('purpose')).key.export()),
    ).toBe(true);
  });

  it('refuses a destroyed version for derivation and explicit-version encryption', () => {
    const keyring = new Keyring();
    keyring.createKey('k');
    keyring.createKey('s', { algorithm: 'aes-256-gcm-siv' });
    for (const name of ['k', 's']) {
      keyring.rotate(name);
      keyring.setState(name, 1, 'destroyed');
    }
    expect(() => keyring.deriveKey('k', 'p', { version: 1 })).toThrow(
      expect.objectContaining({
        code: 'ERR_KEY_DISABLED',
        message: 'version 1 of "k" is destroyed',
      }),
    );
    expect(() => keyring.encrypt('s', 'x', { version: 1 })).toThrow(
      expect.objectContaining({
        code: 'ERR_KEY_DISABLED',
        message: 'version 1 of "s" is destroyed',
      }),
    );
    expect(keyring.deriveKey('k', 'p')).toMatchObject({
      keyVersion: 2,
      keyId: keyring.info('k').id,
    });
  });

  it('says why a random-nonce key takes no explicit version', () => {
    const keyring = new Keyring();
    keyring.createKey('k', { algorithm: 'chacha20-poly1305' });
    expect(() => keyring.encrypt('k', 'x', { version: 1 })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message:
          '"k" is chacha20-poly1305: only deterministic keys encrypt with an explicit version',
      }),
    );
  });
});
