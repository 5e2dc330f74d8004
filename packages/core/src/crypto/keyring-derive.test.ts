import { describe, expect, it } from 'vitest';
import { parseEnvelope } from './envelope.js';
import { hkdfSha256 } from './hkdf.js';
import { hmacSha256 } from './hmac.js';
import { Keyring } from './keyring.js';
import { loadKeyring, serializeKeyring } from './keyring-json.js';

const material = Buffer.alloc(32, 7);

describe('Keyring.deriveKey', () => {
  it('is HKDF-SHA256 of the version key with the derived-key prefix (known answer)', () => {
    const keyring = new Keyring();
    keyring.createKey('fields', { material });
    const derived = keyring.deriveKey('fields', 'blind-index/users/email');
    const expected = hkdfSha256(material, 'custos/keyring/v1/derived-key/blind-index/users/email');
    expect(derived.key.export().equals(expected)).toBe(true);
    expect(derived.keyVersion).toBe(1);
    expect(derived.keyId).toBe(keyring.info('fields').id);
  });

  it('gives unrelated keys for different purposes and versions, and the same key again after reload', () => {
    const keyring = new Keyring();
    keyring.createKey('fields');
    const a = keyring.deriveKey('fields', 'purpose-a').key.export();
    const b = keyring.deriveKey('fields', 'purpose-b').key.export();
    expect(a.equals(b)).toBe(false);
    keyring.rotate('fields');
    const v2 = keyring.deriveKey('fields', 'purpose-a');
    expect(v2.keyVersion).toBe(2);
    expect(v2.key.export().equals(a)).toBe(false);
    expect(keyring.deriveKey('fields', 'purpose-a', { version: 1 }).key.export().equals(a)).toBe(
      true,
    );
    const reloaded = loadKeyring(serializeKeyring(keyring));
    expect(reloaded.deriveKey('fields', 'purpose-a', { version: 1 }).key.export().equals(a)).toBe(
      true,
    );
  });

  it('never equals the AEAD key of a key context with the same text', () => {
    const keyring = new Keyring();
    keyring.createKey('fields', { material });
    const derived = keyring.deriveKey('fields', 'tenant-1').key.export();
    const contextKey = hkdfSha256(material, 'custos/keyring/v1/key-context/tenant-1');
    expect(derived.equals(contextKey)).toBe(false);
  });

  it('refuses versions that may not decrypt, and unknown names or versions', () => {
    const keyring = new Keyring();
    keyring.createKey('fields');
    keyring.rotate('fields');
    keyring.setState('fields', 1, 'disabled');
    expect(() => keyring.deriveKey('fields', 'p', { version: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_DISABLED' }),
    );
    keyring.setState('fields', 1, 'enabled');
    keyring.setMinDecryptionVersion('fields', 2);
    expect(() => keyring.deriveKey('fields', 'p', { version: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_DISABLED' }),
    );
    expect(() => keyring.deriveKey('fields', 'p', { version: 9 })).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_NOT_FOUND' }),
    );
    expect(() => keyring.deriveKey('nope', 'p')).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_NOT_FOUND' }),
    );
  });

  it('works as an HMAC key directly', () => {
    const keyring = new Keyring();
    keyring.createKey('fields', { material });
    const { key } = keyring.deriveKey('fields', 'p');
    expect(hmacSha256(key, 'x').equals(hmacSha256(key.export(), 'x'))).toBe(true);
  });
});

describe('Keyring.encrypt with an explicit version', () => {
  it('reproduces what an older deterministic version stored, for lookup candidates', () => {
    const keyring = new Keyring();
    keyring.createKey('search', { algorithm: 'aes-256-gcm-siv' });
    const aad = { table: 'users', column: 'email' };
    const stored = keyring.encryptToString('search', 'jane@example.com', { aad });
    keyring.rotate('search');
    const current = keyring.encryptToString('search', 'jane@example.com', { aad });
    expect(current).not.toBe(stored);
    expect(parseEnvelope(current).keyVersion).toBe(2);
    expect(keyring.encryptToString('search', 'jane@example.com', { aad, version: 1 })).toBe(stored);
    keyring.setState('search', 1, 'decrypt-only');
    expect(keyring.encryptToString('search', 'jane@example.com', { aad, version: 1 })).toBe(stored);
    keyring.setState('search', 1, 'disabled');
    expect(() => keyring.encrypt('search', 'x', { version: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_DISABLED' }),
    );
  });

  it('is refused for random-nonce keys', () => {
    const keyring = new Keyring();
    keyring.createKey('fields');
    expect(() => keyring.encrypt('fields', 'x', { version: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});

describe('Keyring.createKey with an explicit id', () => {
  it('uses the id, which envelopes then name, and refuses bad or duplicate ids', () => {
    const keyring = new Keyring();
    keyring.createKey('data-key', { id: '0011223344556677' });
    expect(parseEnvelope(keyring.encrypt('data-key', 'x')).keyId).toBe('0011223344556677');
    expect(() => keyring.createKey('other', { id: '0011223344556677' })).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_EXISTS' }),
    );
    expect(() => keyring.createKey('bad', { id: 'XYZ' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
