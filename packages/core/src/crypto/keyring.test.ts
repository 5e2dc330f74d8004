import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { parseEnvelope } from './envelope.js';
import { Keyring } from './keyring.js';

const aad = { table: 'patients', column: 'name', row: 1 };

describe('Keyring rotation', () => {
  it('old ciphertexts still decrypt after rotation; new ones use the new version', () => {
    const keyring = new Keyring();
    keyring.createKey('fields');
    const before = keyring.encryptToString('fields', 'v1 data', { aad });
    expect(keyring.rotate('fields')).toBe(2);
    const after = keyring.encryptToString('fields', 'v2 data', { aad });
    expect(parseEnvelope(before).keyVersion).toBe(1);
    expect(parseEnvelope(after).keyVersion).toBe(2);
    expect(keyring.decrypt(before, { aad }).toString()).toBe('v1 data');
    expect(keyring.decrypt(after, { aad }).toString()).toBe('v2 data');
  });

  it('refuses versions below minDecryptionVersion with ERR_KEY_DISABLED, and lowering it re-allows them', () => {
    const keyring = new Keyring();
    keyring.createKey('fields');
    const old = keyring.encrypt('fields', 'old');
    keyring.rotate('fields');
    keyring.setMinDecryptionVersion('fields', 2);
    expect(() => keyring.decrypt(old)).toThrow(
      expect.objectContaining({
        code: 'ERR_KEY_DISABLED',
        message: expect.stringMatching(/minimum decryption version/),
      }),
    );
    keyring.setMinDecryptionVersion('fields', 1);
    expect(keyring.decrypt(old).toString()).toBe('old');
    expect(() => keyring.setMinDecryptionVersion('fields', 3)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('a disabled version cannot decrypt until re-enabled; a destroyed one never again', () => {
    const keyring = new Keyring();
    keyring.createKey('fields');
    const old = keyring.encrypt('fields', 'old');
    keyring.rotate('fields');
    keyring.setState('fields', 1, 'disabled');
    expect(() => keyring.decrypt(old)).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_DISABLED' }),
    );
    keyring.setState('fields', 1, 'decrypt-only');
    expect(keyring.decrypt(old).toString()).toBe('old');
    keyring.setState('fields', 1, 'destroyed');
    expect(() => keyring.decrypt(old)).toThrow(
      expect.objectContaining({
        code: 'ERR_DECRYPTION_FAILED',
        message: expect.stringMatching(/destroyed/),
      }),
    );
    expect(() => keyring.setState('fields', 1, 'enabled')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_KEY_STATE' }),
    );
  });

  it('keeps the primary enabled: it cannot be disabled, and only enabled versions become primary', () => {
    const keyring = new Keyring();
    keyring.createKey('fields');
    expect(() => keyring.setState('fields', 1, 'disabled')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_KEY_STATE' }),
    );
    keyring.rotate('fields');
    keyring.setState('fields', 1, 'decrypt-only');
    expect(() => keyring.setPrimary('fields', 1)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_KEY_STATE' }),
    );
    keyring.setState('fields', 1, 'enabled');
    keyring.setPrimary('fields', 1);
    expect(parseEnvelope(keyring.encrypt('fields', 'x')).keyVersion).toBe(1);
  });

  it('names unknown keys and versions with ERR_KEY_NOT_FOUND', () => {
    const keyring = new Keyring();
    keyring.createKey('fields');
    expect(() => keyring.encrypt('nope', 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_NOT_FOUND' }),
    );
    expect(() => keyring.setState('fields', 9, 'disabled')).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_NOT_FOUND' }),
    );
    expect(() => keyring.createKey('fields')).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_EXISTS' }),
    );
    expect(() => keyring.createKey('bad name!')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});

describe('Keyring key ids', () => {
  it('are random: the same material under two keys gets two different ids', () => {
    const material = Buffer.alloc(32, 7);
    const a = new Keyring().createKey('a', { material });
    const b = new Keyring().createKey('a', { material });
    expect(a.id).toMatch(/^[0-9a-f]{16}$/);
    expect(a.id).not.toBe(b.id);
  });
});

describe('Keyring encryption counters', () => {
  it('counts encryptions per version and refuses past the limit with ERR_KEY_EXHAUSTED', () => {
    const keyring = new Keyring();
    keyring.createKey('small', { encryptionLimit: 3 });
    for (let i = 0; i < 3; i++) keyring.encrypt('small', 'x');
    expect(keyring.info('small').versions[0]?.encryptions).toBe(3);
    expect(() => keyring.encrypt('small', 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_EXHAUSTED' }),
    );
    keyring.rotate('small');
    expect(() => keyring.encrypt('small', 'x')).not.toThrow();
    expect(keyring.info('small').versions.map((v) => v.encryptions)).toEqual([3, 1]);
  });

  it('reports rotation due once, at the configured fraction of the limit', () => {
    const onRotationDue = vi.fn();
    const keyring = new Keyring({ onRotationDue, rotateAfterFraction: 0.5 });
    keyring.createKey('k', { encryptionLimit: 10 });
    for (let i = 0; i < 4; i++) keyring.encrypt('k', 'x');
    expect(keyring.info('k').rotationDue).toBe(false);
    keyring.encrypt('k', 'x');
    expect(keyring.info('k').rotationDue).toBe(true);
    for (let i = 0; i < 3; i++) keyring.encrypt('k', 'x');
    expect(onRotationDue).toHaveBeenCalledTimes(1);
    expect(onRotationDue.mock.calls[0]?.[0]).toMatchObject({ name: 'k', primaryVersion: 1 });
  });

  it('defaults to 2^32 for random-nonce algorithms and no limit for deterministic SIV', () => {
    const keyring = new Keyring();
    expect(keyring.createKey('gcm').encryptionLimit).toBe(2 ** 32);
    expect(keyring.createKey('chacha', { algorithm: 'chacha20-poly1305' }).encryptionLimit).toBe(
      2 ** 32,
    );
    expect(keyring.createKey('siv', { algorithm: 'aes-256-gcm-siv' }).encryptionLimit).toBeNull();
  });
});

describe('Keyring deterministic mode', () => {
  it('aes-256-gcm-siv gives equal ciphertexts for equal plaintext and associated data only', () => {
    const keyring = new Keyring();
    keyring.createKey('search', { algorithm: 'aes-256-gcm-siv' });
    const a = keyring.encryptToString('search', 'jane@example.com', { aad });
    expect(keyring.encryptToString('search', 'jane@example.com', { aad })).toBe(a);
    expect(keyring.encryptToString('search', 'john@example.com', { aad })).not.toBe(a);
    expect(
      keyring.encryptToString('search', 'jane@example.com', { aad: { ...aad, column: 'x' } }),
    ).not.toBe(a);
    expect(keyring.decrypt(a, { aad }).toString()).toBe('jane@example.com');
  });

  it('aes-256-gcm never repeats a ciphertext', () => {
    const keyring = new Keyring();
    keyring.createKey('k');
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(keyring.encryptToString('k', 'same'));
    expect(seen.size).toBe(2000);
  });
});

describe('Keyring derived keys', () => {
  it("a key context derives a separate key: one tenant cannot open another tenant's data", () => {
    const keyring = new Keyring();
    keyring.createKey('tenants');
    const forA = keyring.encrypt('tenants', 'a-secret', { keyContext: 'tenant-a' });
    expect(keyring.decrypt(forA, { keyContext: 'tenant-a' }).toString()).toBe('a-secret');
    expect(() => keyring.decrypt(forA, { keyContext: 'tenant-b' })).toThrow(
      expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED' }),
    );
  });
});

describe('Keyring printing', () => {
  it('JSON.stringify, String and inspect never show key material', () => {
    const material = Buffer.alloc(32, 0x5a);
    const keyring = new Keyring();
    keyring.createKey('k', { material });
    const outputs = [JSON.stringify(keyring), String(keyring), inspect(keyring, { depth: 10 })];
    for (const text of outputs) {
      expect(text).not.toContain(material.toString('base64'));
      expect(text).not.toContain(material.toString('hex'));
    }
    expect(inspect(keyring)).toBe('Keyring(k@v1)');
  });

  it("JSON.stringify gives every key's public facts in creation order; inspect names each primary", () => {
    const keyring = new Keyring();
    keyring.createKey('fields');
    keyring.rotate('fields');
    keyring.createKey('search', { algorithm: 'aes-256-gcm-siv' });
    const [fields, search] = [keyring.info('fields'), keyring.info('search')];
    expect(JSON.parse(JSON.stringify(keyring))).toEqual({ keys: [fields, search] });
    expect(keyring.toJSON().keys.map((k) => [k.name, k.id, k.primaryVersion])).toEqual([
      ['fields', fields.id, 2],
      ['search', search.id, 1],
    ]);
    expect(fields.versions.map((v) => [v.version, v.state, v.encryptions])).toEqual([
      [1, 'enabled', 0],
      [2, 'enabled', 0],
    ]);
    expect(inspect(keyring)).toBe('Keyring(fields@v2, search@v1)');
    expect(inspect(new Keyring())).toBe('Keyring()');
  });
});
