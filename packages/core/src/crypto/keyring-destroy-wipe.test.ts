/**
 * A destroyed key version leaves no copy of its bytes in the JS heap: AES-256-GCM-SIV keys are
 * the ones that hold such a copy (`AeadKey.raw`, for the JS implementation), and so does every
 * key derived from them for a key context. The keys the keyring builds are watched through the
 * real `createAeadKey` (wrapped, not replaced).
 */
import { createSecretKey } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { AeadKey } from './aead.js';
import { DerivedKeyCache } from './hkdf.js';
import { Keyring } from './keyring.js';

const built = vi.hoisted(() => [] as AeadKey[]);
vi.mock('./aead.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('./aead.js')>();
  return {
    ...real,
    createAeadKey: (...args: Parameters<typeof real.createAeadKey>) => {
      const key = real.createAeadKey(...args);
      built.push(key);
      return key;
    },
  };
});

const zeroed = (key: AeadKey) => (key.raw as Uint8Array).every((byte) => byte === 0);

describe('destroying an AES-256-GCM-SIV key version', () => {
  it('zeroes the bytes of the version and of every key derived from it for a context', () => {
    const keyring = new Keyring();
    built.length = 0;
    keyring.createKey('tokens', { algorithm: 'aes-256-gcm-siv' });
    keyring.encrypt('tokens', Buffer.from('a'), { keyContext: 'tenant-a' });
    keyring.encrypt('tokens', Buffer.from('b'), { keyContext: 'tenant-b' });
    const ofVersion1 = [...built];
    expect(ofVersion1).toHaveLength(3); // the version's key and two context keys
    expect(ofVersion1.some(zeroed)).toBe(false);
    keyring.rotate('tokens');
    keyring.encrypt('tokens', Buffer.from('c'), { keyContext: 'tenant-a' });
    const ofVersion2 = built.slice(ofVersion1.length);

    keyring.setState('tokens', 1, 'destroyed');
    expect(ofVersion1.every(zeroed)).toBe(true);
    // The current version's keys are untouched and still work.
    expect(ofVersion2.some(zeroed)).toBe(false);
    const sealed = keyring.encrypt('tokens', Buffer.from('d'), { keyContext: 'tenant-a' });
    expect(keyring.decrypt(sealed, { keyContext: 'tenant-a' }).toString()).toBe('d');
  });
});

describe('context keys wiped when evicted', () => {
  it('a context whose key was evicted (and wiped) still decrypts: its key is derived afresh', () => {
    const keyring = new Keyring();
    built.length = 0;
    keyring.createKey('tokens', { algorithm: 'aes-256-gcm-siv' });
    const first = keyring.encrypt('tokens', Buffer.from('first'), { keyContext: 'tenant-0' });
    // More contexts than the keyring caches per version (1024): tenant-0's key is evicted.
    for (let i = 1; i <= 1100; i++)
      keyring.encrypt('tokens', Buffer.from('x'), { keyContext: `tenant-${i}` });
    expect(built.some(zeroed)).toBe(true);
    expect(keyring.decrypt(first, { keyContext: 'tenant-0' }).toString()).toBe('first');
  });
});

describe('DerivedKeyCache', () => {
  it('hands each key derived from a forgotten source to the eviction callback, and derives afresh after', () => {
    const wiped: Buffer[] = [];
    const cache = new DerivedKeyCache<{ bytes: Buffer }>(8, (value) => wiped.push(value.bytes));
    const key = createSecretKey(Buffer.alloc(32, 1));
    const first = cache.derive(key, 'a', {}, (bytes) => ({ bytes: Buffer.from(bytes) }));
    const second = cache.derive(key, 'b', {}, (bytes) => ({ bytes: Buffer.from(bytes) }));
    cache.forget(key);
    expect(wiped).toEqual([first.bytes, second.bytes]);
    expect(cache.derive(key, 'a', {}, (bytes) => ({ bytes: Buffer.from(bytes) }))).not.toBe(first);
  });

  it('hands an entry evicted to keep the bound to the eviction callback', () => {
    const evicted: string[] = [];
    const cache = new DerivedKeyCache<string>(2, (value) => evicted.push(value));
    const key = createSecretKey(Buffer.alloc(32, 2));
    for (const info of ['a', 'b', 'c']) cache.derive(key, info, {}, () => info);
    expect(evicted).toEqual(['a']);
  });
});
