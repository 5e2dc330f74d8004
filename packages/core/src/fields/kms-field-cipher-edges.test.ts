import { describe, expect, it } from 'vitest';
import { Keyring } from '../crypto/index.js';
import { createFieldCipher } from './field-cipher.js';
import { createKeyringKms, type FieldKms } from './field-kms.js';

const ctx = { table: 'notes', column: 'body', rowId: 'n1', tenantId: 'acme' };

/** A KMS over the keyring key `current.name`, which the test may switch; counts unwraps. */
function switchableKms(keyring: Keyring) {
  const current = { name: 'kek' };
  const kmsOf = (name: string) => createKeyringKms(keyring, { keyName: name });
  const calls = { unwrap: 0, generate: 0 };
  const kms: FieldKms = {
    async generateDataKey(context) {
      calls.generate++;
      return kmsOf(current.name).generateDataKey(context);
    },
    async unwrapDataKey(wrapped, context) {
      calls.unwrap++;
      // Either key may have wrapped it: the one it names.
      const { keyId } = kmsOf('kek').describeWrappedKey(wrapped);
      const name = keyId === keyring.info('kek').id ? 'kek' : 'kek2';
      return kmsOf(name).unwrapDataKey(wrapped, context);
    },
    describeWrappedKey: (wrapped) => kmsOf('kek').describeWrappedKey(wrapped),
    currentKey: async () => kmsOf(current.name).currentKey(),
  };
  return { kms, current, calls };
}

function setup() {
  const keyring = new Keyring();
  keyring.createKey('kek');
  keyring.createKey('kek2');
  let now = 5_000_000;
  const clock = {
    advance: (seconds: number) => {
      now += seconds * 1000;
    },
  };
  const { kms, current, calls } = switchableKms(keyring);
  const fc = createFieldCipher({ kms, dataKeyCache: { now: () => now } });
  return { keyring, kms, current, calls, fc, clock };
}

describe('createFieldCipher({ kms }) edges', () => {
  it('re-encrypts under another KMS key of the same version number once it is the current one', async () => {
    const { keyring, current, fc, clock } = setup();
    const old = await fc.encrypt('data', ctx);
    expect(await fc.describe(old)).toMatchObject({ keyId: keyring.info('kek').id, keyVersion: 1 });
    current.name = 'kek2';
    clock.advance(2); // past the one-second cache of the current KMS key
    const moved = await fc.reencrypt(old, ctx);
    expect(await fc.describe(moved)).toEqual({
      keyId: keyring.info('kek2').id,
      keyVersion: 1,
      keyName: undefined,
      deterministic: false,
      current: true,
    });
    expect(await fc.describe(old)).toMatchObject({ deterministic: false, current: false });
    expect(await fc.decrypt(moved, ctx)).toBe('data');
  });

  it('never serves a cached data key for another tenant whose id and wrapped key join alike', async () => {
    const { fc, calls } = setup();
    const stored = await fc.encrypt('data', { ...ctx, tenantId: 'a' });
    const [envelope, wrapped] = stored.split('.') as [string, string];
    // Tenant "a" + wrapped key "Wxyz" and tenant "aW" + wrapped key "xyz" are different pairs.
    const forged = `${envelope}.${wrapped.slice(1)}`;
    const other = { ...ctx, tenantId: `a${wrapped.charAt(0)}` };
    const before = calls.unwrap;
    await expect(fc.decrypt(forged, other)).rejects.toMatchObject({
      code: expect.stringMatching(
        /^ERR_(DECRYPTION_FAILED|MALFORMED_CIPHERTEXT|INVALID_ARGUMENT)$/,
      ),
    });
    expect(calls.unwrap).toBe(before + 1);
    // The real pair is still served from the cache.
    expect(await fc.decrypt(stored, { ...ctx, tenantId: 'a' })).toBe('data');
    expect(calls.unwrap).toBe(before + 1);
  });

  it('without a keyring: describes and lists only the KMS key, and says what needs one', async () => {
    const { keyring, fc } = setup();
    const stored = await fc.encrypt('data', ctx);
    expect(await fc.describe(stored)).toEqual({
      keyId: keyring.info('kek').id,
      keyVersion: 1,
      keyName: undefined,
      deterministic: false,
      current: true,
    });
    expect(await fc.currentKeys()).toStrictEqual({
      randomized: { keyId: keyring.info('kek').id, keyVersion: 1 },
    });
    const det = { ...ctx, deterministic: true };
    const needs = (what: string) => ({
      code: 'ERR_INVALID_ARGUMENT',
      message: `${what} needs a keyring: createFieldCipher({ kms, keyring })`,
    });
    await expect(fc.encrypt('x', det)).rejects.toMatchObject(needs('a deterministic column'));
    await expect(fc.deterministicCandidates('x', det)).rejects.toMatchObject(
      needs('a deterministic column'),
    );
    await expect(fc.blindIndex('x', ctx)).rejects.toMatchObject(needs('a blind index'));
    await expect(fc.blindIndexCandidates('x', ctx)).rejects.toMatchObject(needs('a blind index'));

    // A value written in keyring mode (a plain envelope) cannot be read without the keyring.
    keyring.createKey('default');
    const legacy = createFieldCipher({ keyring }).encrypt('old', ctx);
    expect(await fc.describe(legacy)).toEqual({
      keyId: keyring.info('default').id,
      keyVersion: 1,
      keyName: undefined,
      deterministic: false,
      current: false,
    });
    await expect(fc.decrypt(legacy, ctx)).rejects.toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
      message:
        'decryption failed: this value was encrypted with a keyring, and no keyring was given',
    });
  });

  it('re-encrypting a deterministic value needs the keyring to read it; with one it stays the same value', async () => {
    const { keyring, fc } = setup();
    keyring.createKey('default');
    keyring.createKey('deterministic', { algorithm: 'aes-256-gcm-siv' });
    const det = { ...ctx, deterministic: true };
    const value = createFieldCipher({ keyring }).encrypt('x', det);
    await expect(fc.reencrypt(value, det)).rejects.toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
      message:
        'decryption failed: this value was encrypted with a keyring, and no keyring was given',
    });
    const withKeyring = createFieldCipher({ kms: setup().kms, keyring });
    expect(await withKeyring.reencrypt(value, det)).toBe(value);
  });
});
