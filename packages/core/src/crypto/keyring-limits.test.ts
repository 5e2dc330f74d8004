import { describe, expect, it, vi } from 'vitest';
import { Keyring, type KeyVersionState, RANDOM_NONCE_ENCRYPTION_LIMIT } from './keyring.js';
import { loadKeyring, serializeKeyring } from './keyring-json.js';

const invalid = (message: string) =>
  expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message });

describe('Keyring limits', () => {
  it('takes a rotation fraction above 0 and up to 1', () => {
    expect(() => new Keyring({ rotateAfterFraction: 1 })).not.toThrow();
    expect(() => new Keyring({ rotateAfterFraction: 0.001 })).not.toThrow();
    for (const fraction of [0, -0.5, 1.0001, Number.NaN]) {
      expect(() => new Keyring({ rotateAfterFraction: fraction }), String(fraction)).toThrow(
        invalid('rotateAfterFraction must be in (0, 1]'),
      );
    }
  });

  it('takes an encryption limit from 1 to 2^32', () => {
    const keyring = new Keyring();
    expect(keyring.createKey('one', { encryptionLimit: 1 }).encryptionLimit).toBe(1);
    expect(
      keyring.createKey('most', { encryptionLimit: RANDOM_NONCE_ENCRYPTION_LIMIT }).encryptionLimit,
    ).toBe(2 ** 32);
    for (const encryptionLimit of [0, 2 ** 32 + 1, 1.5, -1]) {
      expect(() => keyring.createKey('k', { encryptionLimit }), String(encryptionLimit)).toThrow(
        invalid('encryptionLimit must be an integer from 1 to 2^32'),
      );
    }
    expect(keyring.has('k')).toBe(false);
  });

  it('refuses the encryption after the last one allowed, naming the version and the limit', () => {
    const keyring = new Keyring();
    keyring.createKey('small', { encryptionLimit: 2 });
    keyring.encrypt('small', 'a');
    keyring.encrypt('small', 'b');
    expect(() => keyring.encrypt('small', 'c')).toThrow(
      expect.objectContaining({
        code: 'ERR_KEY_EXHAUSTED',
        message: 'version 1 of "small" reached its limit of 2 encryptions; rotate the key',
      }),
    );
    expect(keyring.info('small').versions[0]?.encryptions).toBe(2);
  });

  it('calls onRotationDue on the encryption that reaches the fraction, not one before', () => {
    const onRotationDue = vi.fn();
    const keyring = new Keyring({ onRotationDue, rotateAfterFraction: 0.25 });
    keyring.createKey('k', { encryptionLimit: 8 });
    keyring.encrypt('k', 'x');
    expect(onRotationDue).not.toHaveBeenCalled();
    expect(keyring.info('k').rotationDue).toBe(false);
    keyring.encrypt('k', 'x');
    expect(onRotationDue).toHaveBeenCalledTimes(1);
    expect(onRotationDue.mock.calls[0]?.[0]).toMatchObject({ name: 'k', rotationDue: true });
    expect(keyring.info('k').rotationDue).toBe(true);
  });

  it('crosses the rotation threshold without a callback, and never marks a key without a limit', () => {
    const keyring = new Keyring({ rotateAfterFraction: 0.5 });
    keyring.createKey('k', { encryptionLimit: 2 });
    keyring.encrypt('k', 'x');
    keyring.encrypt('k', 'x');
    expect(keyring.info('k').rotationDue).toBe(true);
    keyring.createKey('siv', { algorithm: 'aes-256-gcm-siv' });
    expect(keyring.info('siv').rotationDue).toBe(false);
    keyring.encrypt('siv', 'x');
    expect(keyring.info('siv')).toMatchObject({ rotationDue: false, encryptionLimit: null });
  });

  it('numbers each rotation one above the highest version, whatever the primary', () => {
    const keyring = new Keyring();
    keyring.createKey('k');
    expect([keyring.rotate('k'), keyring.rotate('k'), keyring.rotate('k')]).toEqual([2, 3, 4]);
    keyring.setPrimary('k', 2);
    expect(keyring.rotate('k')).toBe(5);
    expect(keyring.info('k').versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5]);
    expect(keyring.info('k').primaryVersion).toBe(5);
  });

  it('rotates up to version 2^32-1 and no further', () => {
    const keyring = new Keyring();
    keyring.createKey('k');
    const json = JSON.parse(serializeKeyring(keyring));
    json.keys[0].versions[0].version = 0xfffffffe;
    json.keys[0].primaryVersion = 0xfffffffe;
    const loaded = loadKeyring(json);
    expect(loaded.rotate('k')).toBe(0xffffffff);
    expect(() => loaded.rotate('k')).toThrow(invalid('version space exhausted'));
    expect(loaded.info('k').primaryVersion).toBe(0xffffffff);
  });
});

describe('Keyring version changes', () => {
  it('makes a version primary only when it is enabled and at or above the minimum', () => {
    const keyring = new Keyring();
    keyring.createKey('k');
    keyring.rotate('k');
    keyring.rotate('k');
    keyring.setMinDecryptionVersion('k', 2);
    keyring.setPrimary('k', 2);
    expect(keyring.info('k').primaryVersion).toBe(2);
    expect(() => keyring.setPrimary('k', 1)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_KEY_STATE',
        message:
          'version 1 of "k" must be enabled and at or above the minimum decryption version to be primary',
      }),
    );
    expect(keyring.info('k').primaryVersion).toBe(2);
  });

  it('takes a minimum decryption version from 1 to the primary, and decrypts at the minimum', () => {
    const keyring = new Keyring();
    keyring.createKey('k');
    keyring.rotate('k');
    const atMinimum = keyring.encrypt('k', 'v2');
    keyring.setMinDecryptionVersion('k', 2);
    expect(keyring.decrypt(atMinimum).toString()).toBe('v2');
    for (const version of [0, 3, 1.5]) {
      expect(() => keyring.setMinDecryptionVersion('k', version), String(version)).toThrow(
        invalid('minimum decryption version of "k" must be from 1 to the primary version 2'),
      );
    }
    expect(keyring.info('k').minDecryptionVersion).toBe(2);
    keyring.setMinDecryptionVersion('k', 1);
    expect(keyring.info('k').minDecryptionVersion).toBe(1);
  });

  it('treats setting the state a version already has as nothing to do, even for the primary', () => {
    const keyring = new Keyring();
    keyring.createKey('k');
    keyring.setState('k', 1, 'enabled');
    keyring.rotate('k');
    keyring.setState('k', 1, 'destroyed');
    keyring.setState('k', 1, 'destroyed');
    expect(keyring.info('k').versions.map((v) => v.state)).toEqual(['destroyed', 'enabled']);
  });

  it('moves a version between enabled, decrypt-only and disabled freely, and to destroyed from each', () => {
    const kept: KeyVersionState[] = ['enabled', 'decrypt-only', 'disabled'];
    for (const from of kept) {
      for (const to of [...kept, 'destroyed'] as const) {
        if (to === from) continue;
        const keyring = new Keyring();
        keyring.createKey('k');
        keyring.rotate('k');
        if (from !== 'enabled') keyring.setState('k', 1, from);
        keyring.setState('k', 1, to);
        expect(keyring.info('k').versions[0]?.state, `${from} to ${to}`).toBe(to);
      }
    }
    const keyring = new Keyring();
    keyring.createKey('k');
    keyring.rotate('k');
    keyring.setState('k', 1, 'destroyed');
    for (const to of kept) {
      expect(() => keyring.setState('k', 1, to)).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_KEY_STATE',
          message: `version 1 of "k" cannot go from destroyed to ${to}`,
        }),
      );
    }
  });

  it('names the transition it refuses, and the primary it protects', () => {
    const keyring = new Keyring();
    keyring.createKey('k');
    expect(() => keyring.setState('k', 1, 'disabled')).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_KEY_STATE',
        message: 'version 1 is the primary of "k"; rotate or set another primary first',
      }),
    );
    keyring.rotate('k');
    keyring.setState('k', 1, 'destroyed');
    expect(() => keyring.setState('k', 1, 'decrypt-only')).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_KEY_STATE',
        message: 'version 1 of "k" cannot go from destroyed to decrypt-only',
      }),
    );
  });

  it('wipes the material of a destroyed version in place', () => {
    const keyring = new Keyring();
    keyring.createKey('k', { material: Buffer.alloc(32, 0x42) });
    keyring.rotate('k');
    const [record] = [...Keyring.internals.records(keyring)];
    const material = record?.versions.get(1)?.material as Buffer;
    expect(material.equals(Buffer.alloc(32, 0x42))).toBe(true);
    expect(record?.versions.get(1)?.aeadKey?.algorithm).toBe('aes-256-gcm');
    keyring.setState('k', 1, 'destroyed');
    expect(material.equals(Buffer.alloc(32))).toBe(true);
    expect(record?.versions.get(1)).toMatchObject({ material: undefined, aeadKey: undefined });
    expect(serializeKeyring(keyring)).not.toContain(Buffer.alloc(32, 0x42).toString('base64'));
  });
});

describe('Keyring names', () => {
  it('accepts 1 to 128 characters starting with a letter or digit, and nothing else', () => {
    const keyring = new Keyring();
    for (const name of ['a', '7', 'A.b_c-d', 'aZ9', `k${'x'.repeat(127)}`]) {
      expect(() => keyring.createKey(name), name).not.toThrow();
    }
    for (const name of ['', `k${'x'.repeat(128)}`, '.k', '-k', '_k', 'k!', 'k k', '!k', 'k\n']) {
      expect(() => keyring.createKey(name), name).toThrow(
        invalid(
          'key names are 1-128 characters of A-Z a-z 0-9 . _ - and start with a letter or digit',
        ),
      );
    }
  });

  it('refuses a taken name before looking at the options that come with it', () => {
    const keyring = new Keyring();
    keyring.createKey('k', { id: '00112233445566ff' });
    for (const options of [
      { encryptionLimit: 0 },
      { algorithm: 'des' as never },
      { id: 'XYZ' },
      { id: '00112233445566ff' },
    ]) {
      expect(() => keyring.createKey('k', options), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'ERR_KEY_EXISTS', message: 'key "k" exists' }),
      );
    }
  });

  it('names the missing key and version', () => {
    const keyring = new Keyring();
    keyring.createKey('k');
    expect(() => keyring.encrypt('nope', 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_NOT_FOUND', message: 'no key named "nope"' }),
    );
    expect(() => keyring.rotate('nope')).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_NOT_FOUND', message: 'no key named "nope"' }),
    );
    expect(() => keyring.setPrimary('k', 4)).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_NOT_FOUND', message: 'key "k" has no version 4' }),
    );
    expect(() => keyring.createKey('k')).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_EXISTS', message: 'key "k" exists' }),
    );
  });

  it('takes an explicit id only as 16 lowercase hex characters, once', () => {
    const keyring = new Keyring();
    keyring.createKey('a', { id: '00112233445566ff' });
    expect(() => keyring.createKey('b', { id: '00112233445566ff' })).toThrow(
      expect.objectContaining({
        code: 'ERR_KEY_EXISTS',
        message: 'key id 00112233445566ff is already used',
      }),
    );
    for (const id of [
      '00112233445566FF',
      '00112233445566f',
      '00112233445566ff0',
      'x00112233445566f',
      '0011223344556g',
    ]) {
      expect(() => keyring.createKey('c', { id }), id).toThrow(
        invalid('key id must be 16 lowercase hex characters'),
      );
    }
    expect(() => keyring.createKey('c', { algorithm: 'des' as never })).toThrow(
      invalid('unknown algorithm'),
    );
  });
});
