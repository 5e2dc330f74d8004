import { describe, expect, it } from 'vitest';
import { Keyring } from '../crypto/index.js';
import { createCachingKms } from './caching-kms.js';
import { createFieldCipher } from './field-cipher.js';
import { createKeyringKms, type FieldKms } from './field-kms.js';

/** A real keyring KMS that counts the calls that reach it. */
function countingKms() {
  const keyring = new Keyring();
  keyring.createKey('kek');
  const inner = createKeyringKms(keyring, { keyName: 'kek' });
  const calls = { generate: 0, unwrap: 0, current: 0 };
  const kms: FieldKms = {
    generateDataKey: (c) => {
      calls.generate++;
      return inner.generateDataKey(c);
    },
    unwrapDataKey: (w, c) => {
      calls.unwrap++;
      return inner.unwrapDataKey(w, c);
    },
    describeWrappedKey: (w) => inner.describeWrappedKey(w),
    currentKey: () => {
      calls.current++;
      return inner.currentKey();
    },
  };
  return { keyring, kms, calls };
}

describe('createCachingKms', () => {
  it('hands out one data key per tenant for maxUses calls, then asks the KMS again', async () => {
    const { kms, calls } = countingKms();
    const cached = createCachingKms(kms, { maxUses: 3 });
    const a = await Promise.all([1, 2, 3].map(() => cached.generateDataKey({ tenantId: 'a' })));
    expect(calls.generate).toBe(1);
    expect(new Set(a.map((k) => k.wrapped)).size).toBe(1);
    const fourth = await cached.generateDataKey({ tenantId: 'a' });
    expect(calls.generate).toBe(2);
    expect(fourth.wrapped).not.toBe(a[0]?.wrapped);
    const b = await cached.generateDataKey({ tenantId: 'b' });
    expect(calls.generate).toBe(3);
    expect(b.wrapped).not.toBe(fourth.wrapped);
    // The tenant stays bound: b's key does not unwrap for a, cached or not.
    await expect(cached.unwrapDataKey(b.wrapped, { tenantId: 'a' })).rejects.toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
    });
  });

  it('stops reusing a data key and an unwrapped key after maxAgeSeconds', async () => {
    const { kms, calls } = countingKms();
    let clock = 1_000_000;
    const cached = createCachingKms(kms, { maxAgeSeconds: 60, now: () => clock });
    const first = await cached.generateDataKey({});
    clock += 59_000;
    expect((await cached.generateDataKey({})).wrapped).toBe(first.wrapped);
    await cached.unwrapDataKey(first.wrapped, {});
    expect(calls).toMatchObject({ generate: 1, unwrap: 0 });
    clock += 2_000;
    expect((await cached.generateDataKey({})).wrapped).not.toBe(first.wrapped);
    await cached.unwrapDataKey(first.wrapped, {});
    expect(calls).toMatchObject({ generate: 2, unwrap: 1 });
  });

  it('returns a copy each time: a caller zeroing its key does not corrupt the cache', async () => {
    const { kms } = countingKms();
    const cached = createCachingKms(kms);
    const first = await cached.generateDataKey({});
    const original = Buffer.from(first.plaintext);
    (first.plaintext as Buffer).fill(0);
    const second = await cached.generateDataKey({});
    expect(Buffer.from(second.plaintext).equals(original)).toBe(true);
    const unwrapped = await cached.unwrapDataKey(first.wrapped, {});
    unwrapped.fill(0);
    expect(Buffer.from(await cached.unwrapDataKey(first.wrapped, {})).equals(original)).toBe(true);
  });

  it('does not cache a failed unwrap, and drops data keys of a rotated-out KMS key version', async () => {
    const { keyring, kms, calls } = countingKms();
    const cached = createCachingKms(kms);
    const malformed = { code: 'ERR_MALFORMED_CIPHERTEXT' };
    await expect(cached.unwrapDataKey('not a key', {})).rejects.toMatchObject(malformed);
    await expect(cached.unwrapDataKey('not a key', {})).rejects.toMatchObject(malformed);
    expect(calls.unwrap).toBe(2);

    const before = await cached.generateDataKey({});
    keyring.rotate('kek');
    expect(await cached.currentKey()).toMatchObject({ keyVersion: 2 });
    const after = await cached.generateDataKey({});
    expect(cached.describeWrappedKey(before.wrapped).keyVersion).toBe(1);
    expect(cached.describeWrappedKey(after.wrapped).keyVersion).toBe(2);
  });

  it('serves a field cipher: values round-trip with one KMS call per data key', async () => {
    const { kms, calls } = countingKms();
    const fc = createFieldCipher({
      kms: createCachingKms(kms, { maxUses: 100 }),
      dataKeyCache: { maxUses: 1 },
    });
    const context = { table: 't', column: 'c', rowId: 1, tenantId: 9 };
    const stored = [];
    for (let i = 0; i < 50; i++) stored.push(await fc.encrypt(`v${i}`, context));
    expect(calls.generate).toBe(1);
    for (const [i, s] of stored.entries()) expect(await fc.decrypt(s, context)).toBe(`v${i}`);
  });

  it('rejects a bound that is not a positive integer', () => {
    const { kms } = countingKms();
    for (const maxUses of [0, -1, 1.5, Number.NaN]) {
      expect(() => createCachingKms(kms, { maxUses })).toThrow(/maxUses/);
    }
    for (const maxAgeSeconds of [0, -5, Number.POSITIVE_INFINITY]) {
      expect(() => createCachingKms(kms, { maxAgeSeconds })).toThrow(/maxAgeSeconds/);
    }
  });
});
