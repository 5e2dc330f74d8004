import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { MetricsHooks } from '../metrics/hooks.js';
import { armor } from '../stream/protected-armor.js';
import { Keyring } from './keyring.js';
import { loadKeyring, serializeKeyring } from './keyring-json.js';

/** Hooks that record every call, by name and arguments. */
function recordingHooks() {
  const calls: string[] = [];
  const hooks: MetricsHooks = {
    jwtVerificationFailed: (reason) => calls.push(`jwt ${reason}`),
    fieldDecryptFailed: (table, column) => calls.push(`field ${table}.${column}`),
    secretCacheHit: () => calls.push('hit'),
    secretCacheMiss: () => calls.push('miss'),
    rotation: (kind) => calls.push(`rotation ${kind}`),
  };
  return { hooks, calls };
}

describe('what a keyring tells the outside', () => {
  it('counts each rotation as keyring_key, and nothing else it does', () => {
    const { hooks, calls } = recordingHooks();
    const keyring = new Keyring({ metrics: hooks });
    keyring.createKey('fields');
    const sealed = keyring.encrypt('fields', 'x');
    expect(calls).toEqual([]);
    expect(keyring.rotate('fields')).toBe(2);
    expect(calls).toEqual(['rotation keyring_key']);
    keyring.setState('fields', 1, 'decrypt-only');
    keyring.decrypt(sealed);
    keyring.rotate('fields');
    expect(calls).toEqual(['rotation keyring_key', 'rotation keyring_key']);
  });

  it('rotates without metrics hooks', () => {
    const keyring = new Keyring();
    keyring.createKey('fields');
    expect(keyring.rotate('fields')).toBe(2);
    expect(keyring.info('fields').primaryVersion).toBe(2);
  });

  it('dates versions by the clock it is given, loaded keyrings included', () => {
    let clock = Date.UTC(2031, 4, 6, 7, 8, 9, 10);
    const now = () => new Date(clock);
    const keyring = new Keyring({ now });
    keyring.createKey('fields');
    clock += 86_400_000;
    keyring.rotate('fields');
    expect(keyring.info('fields').versions.map((v) => v.createdAt)).toEqual([
      '2031-05-06T07:08:09.010Z',
      '2031-05-07T07:08:09.010Z',
    ]);
    clock += 86_400_000;
    const loaded = loadKeyring(serializeKeyring(keyring), { now });
    loaded.rotate('fields');
    expect(loaded.info('fields').versions.map((v) => v.createdAt)).toEqual([
      '2031-05-06T07:08:09.010Z',
      '2031-05-07T07:08:09.010Z',
      '2031-05-08T07:08:09.010Z',
    ]);
  });

  it('loadKeyring refuses a protected key file as ERR_KEY_FILE_LOCKED, saying how to open it', () => {
    const text = armor(randomBytes(200));
    for (const input of [text, `\n  ${text}`]) {
      let caught: unknown;
      try {
        loadKeyring(input);
      } catch (err) {
        caught = err;
      }
      expect(caught).toMatchObject({ code: 'ERR_KEY_FILE_LOCKED' });
      expect((caught as Error).message).toBe(
        'this keyring is protected: read it with readKeyringFile(path, { unlock }), or pass loadKeyring the text of unprotectKeyFile(text, unlock)',
      );
    }
    // The same keyring in the clear loads.
    const keyring = new Keyring();
    keyring.createKey('fields');
    expect(loadKeyring(serializeKeyring(keyring)).has('fields')).toBe(true);
  });
});
