import { describe, expect, it } from 'vitest';
import { Keyring } from '../crypto/index.js';
import { createFieldCipher } from './field-cipher.js';
import { createKeyringKms, type DataKeyContext, type FieldKms } from './field-kms.js';
import type { FieldContext } from './types.js';

/** The in-process KMS over `kek`, recording each data key's context and each current-key ask. */
function recordingKms(keyring: Keyring) {
  const inner = createKeyringKms(keyring, { keyName: 'kek' });
  const generated: DataKeyContext[] = [];
  const calls = { current: 0 };
  const kms: FieldKms = {
    async generateDataKey(context) {
      generated.push(context);
      return inner.generateDataKey(context);
    },
    unwrapDataKey: (wrapped, context) => inner.unwrapDataKey(wrapped, context),
    describeWrappedKey: (wrapped) => inner.describeWrappedKey(wrapped),
    async currentKey() {
      calls.current++;
      return inner.currentKey();
    },
  };
  return { kms, generated, calls };
}

function setup() {
  const keyring = new Keyring();
  keyring.createKey('kek');
  keyring.createKey('deterministic', { algorithm: 'aes-256-gcm-siv' });
  keyring.createKey('blind-index');
  let now = 2_000_000;
  const clock = {
    advance: (seconds: number) => {
      now += seconds * 1000;
    },
  };
  const { kms, generated, calls } = recordingKms(keyring);
  const fc = createFieldCipher({ kms, keyring, dataKeyCache: { now: () => now } });
  return { keyring, kms, generated, calls, fc, clock };
}

const ctx = { table: 'notes', column: 'body', rowId: 'n1', tenantId: 'acme' };
const det = { ...ctx, deterministic: true };
const wrappedKeyOf = (stored: string) => stored.split('.')[1];

describe('createFieldCipher({ kms }) current keys', () => {
  it('lists the blind-index key of its keyring among the current keys', async () => {
    const { keyring, fc } = setup();
    expect(await fc.currentKeys()).toStrictEqual({
      randomized: { keyId: keyring.info('kek').id, keyVersion: 1 },
      deterministic: { keyId: keyring.info('deterministic').id, keyVersion: 1 },
      blindIndex: { keyId: keyring.info('blind-index').id, keyVersion: 1 },
    });
    keyring.rotate('blind-index');
    expect((await fc.currentKeys()).blindIndex).toStrictEqual({
      keyId: keyring.info('blind-index').id,
      keyVersion: 2,
    });
  });

  it('a deterministic value under an older version of the deterministic key is not current', async () => {
    const { keyring, fc } = setup();
    const old = await fc.encrypt('jane', det);
    expect(await fc.describe(old)).toMatchObject({ keyVersion: 1, current: true });
    keyring.rotate('deterministic');
    expect(await fc.describe(old)).toStrictEqual({
      keyId: keyring.info('deterministic').id,
      keyVersion: 1,
      keyName: 'deterministic',
      deterministic: true,
      current: false,
    });
    const moved = await fc.reencrypt(old, det);
    expect(await fc.describe(moved)).toMatchObject({ keyVersion: 2, current: true });
    expect(await fc.decrypt(moved, det)).toBe('jane');
  });

  it('encrypting never asks the KMS for its current key: the cached data key keeps encrypting', async () => {
    const { keyring, fc, calls, clock } = setup();
    const first = await fc.encrypt('a', ctx);
    keyring.rotate('kek');
    clock.advance(2); // past the one-second cache of the current KMS key, within the data key's 300 s
    const second = await fc.encrypt('b', ctx);
    expect(calls.current).toBe(0);
    expect(wrappedKeyOf(second)).toBe(wrappedKeyOf(first));
    expect(await fc.describe(second)).toMatchObject({ keyVersion: 1, current: false });
    // Re-encryption does ask, and leaves the old data key.
    const moved = await fc.reencrypt(second, ctx);
    expect(calls.current).toBe(1);
    expect(wrappedKeyOf(moved)).not.toBe(wrappedKeyOf(first));
    expect(await fc.describe(moved)).toMatchObject({ keyVersion: 2, current: true });
  });
});

describe('createFieldCipher({ kms }) edges of reading and writing', () => {
  it('re-encrypts a deterministic value whatever mode the context says, as keyring mode does', async () => {
    const { fc } = setup();
    const deterministic = await fc.encrypt('jane', det);
    expect(await fc.reencrypt(deterministic, ctx)).toBe(deterministic);
    const randomised = await fc.encrypt('jane', ctx);
    const moved = await fc.reencrypt(randomised, det);
    expect(wrappedKeyOf(moved)).toBe(wrappedKeyOf(randomised));
    expect(moved).not.toBe(randomised);
    expect(await fc.decrypt(moved, ctx)).toBe('jane');
  });

  it('gives a tenant named "undefined" a data key of its own, apart from values without a tenant', async () => {
    const { fc, generated } = setup();
    const none = { table: 'notes', column: 'body', rowId: 'n1' };
    const named = { ...none, tenantId: 'undefined' };
    const withoutTenant = await fc.encrypt('a', none);
    const withTenant = await fc.encrypt('b', named);
    expect(generated).toEqual([{}, { tenantId: 'undefined' }]);
    expect(wrappedKeyOf(withTenant)).not.toBe(wrappedKeyOf(withoutTenant));
    expect(await fc.decrypt(withTenant, named)).toBe('b');
    expect(await fc.decrypt(withoutTenant, none)).toBe('a');
  });

  it('refuses a missing context with ERR_FIELD_CONTEXT_MISSING, writing and reading', async () => {
    const { fc } = setup();
    const stored = await fc.encrypt('x', ctx);
    const storedDeterministic = await fc.encrypt('x', det);
    const missing = {
      code: 'ERR_FIELD_CONTEXT_MISSING',
      message: 'a field context { table, column } is required',
    };
    for (const context of [undefined, null] as unknown as FieldContext[]) {
      await expect(fc.encrypt('x', context)).rejects.toMatchObject(missing);
      for (const value of [stored, storedDeterministic]) {
        await expect(fc.decrypt(value, context)).rejects.toMatchObject(missing);
        await expect(fc.reencrypt(value, context)).rejects.toMatchObject(missing);
      }
    }
  });

  it('reads a value with a wrapped key as randomised, whatever algorithm its envelope names', async () => {
    const { fc, keyring } = setup();
    const deterministic = await fc.encrypt('jane', det);
    const randomised = await fc.encrypt('jane', ctx);
    // A deterministic envelope with a real wrapped data key attached.
    const forged = `${deterministic}.${wrappedKeyOf(randomised)}`;
    await expect(fc.decrypt(forged, det)).rejects.toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
      message:
        'decryption failed: notes.body holds a randomised ciphertext but the context says otherwise',
    });
    // Opened with the data key, which is not the key the envelope names.
    await expect(fc.decrypt(forged, ctx)).rejects.toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
      message: `decryption failed for notes.body: this keyring holds no key ${keyring.info('deterministic').id} (a value copied from another row, column or tenant, or a wrong key)`,
    });
    expect(await fc.describe(forged)).toMatchObject({
      keyId: keyring.info('kek').id,
      deterministic: false,
    });
  });

  it('takes any keyring key for blind indexes but the deterministic one: KMS mode encrypts with none', async () => {
    const keyring = new Keyring();
    keyring.createKey('kek');
    keyring.createKey('deterministic', { algorithm: 'aes-256-gcm-siv' });
    const kms = createKeyringKms(keyring, { keyName: 'kek' });
    // `default` encrypts in keyring mode, not here.
    for (const name of ['default', 'blind-index', 'email-index']) {
      keyring.createKey(name);
      const fc = createFieldCipher({ kms, keyring, blindIndexKeyName: name });
      await expect(fc.currentKeys()).resolves.toMatchObject({
        blindIndex: { keyId: keyring.info(name).id, keyVersion: 1 },
      });
    }
    expect(() => createFieldCipher({ kms, keyring, blindIndexKeyName: 'deterministic' })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message:
          'blindIndexKeyName "deterministic" is an encryption key; blind indexes need a key of their own, or every rotation of the encryption key changes them',
      }),
    );
  });
});

describe('a value read in the other mode', () => {
  it('is refused and counted as a failed decryption in both modes', async () => {
    const failures: string[] = [];
    const metrics = {
      jwtVerificationFailed: () => {},
      fieldDecryptFailed: (table: string, column: string) => failures.push(`${table}.${column}`),
      secretCacheHit: () => {},
      secretCacheMiss: () => {},
      rotation: () => {},
    };
    const { kms, keyring } = setup();
    const byKms = createFieldCipher({ kms, keyring, metrics });
    const byKeyring = createFieldCipher({ keyring: withDefaultKey(keyring), metrics });
    for (const fc of [byKms, byKeyring]) {
      const deterministic = await fc.encrypt('jane', det);
      const randomised = await fc.encrypt('jane', ctx);
      for (const [value, context] of [
        [deterministic, ctx],
        [randomised, det],
      ] as const) {
        await expect(
          Promise.resolve().then(() => fc.decrypt(value, context)),
        ).rejects.toMatchObject({
          code: 'ERR_DECRYPTION_FAILED',
          message: expect.stringMatching(/^decryption failed: notes\.body holds a /),
        });
      }
    }
    expect(failures).toEqual(['notes.body', 'notes.body', 'notes.body', 'notes.body']);
  });
});

/** The same keyring with a randomised `default` key added (keyring mode needs one). */
function withDefaultKey(keyring: Keyring): Keyring {
  keyring.createKey('default');
  return keyring;
}
