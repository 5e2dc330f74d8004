import { describe, expect, it } from 'vitest';
import { Keyring } from '../crypto/index.js';
import { createFieldCipher } from './field-cipher.js';
import { createKeyringKms, type FieldKms } from './field-kms.js';

/** The in-process KMS with call counters, to show what the caches save. */
function countingKms(keyring: Keyring) {
  const inner = createKeyringKms(keyring, { keyName: 'kek' });
  const calls = { generate: 0, unwrap: 0, current: 0 };
  const kms: FieldKms = {
    async generateDataKey(context) {
      calls.generate++;
      return inner.generateDataKey(context);
    },
    async unwrapDataKey(wrapped, context) {
      calls.unwrap++;
      return inner.unwrapDataKey(wrapped, context);
    },
    describeWrappedKey: (wrapped) => inner.describeWrappedKey(wrapped),
    async currentKey() {
      calls.current++;
      return inner.currentKey();
    },
  };
  return { kms, calls };
}

function setup(cache: { ttlSeconds?: number; maxUses?: number; maxEntries?: number } = {}) {
  const keyring = new Keyring();
  keyring.createKey('kek');
  keyring.createKey('default');
  keyring.createKey('deterministic', { algorithm: 'aes-256-gcm-siv' });
  keyring.createKey('blind-index');
  let now = 1_000_000;
  const clock = {
    advance: (seconds: number) => {
      now += seconds * 1000;
    },
  };
  const { kms, calls } = countingKms(keyring);
  const fc = createFieldCipher({ kms, keyring, dataKeyCache: { ...cache, now: () => now } });
  return { keyring, kms, calls, fc, clock };
}

const ctx = { table: 'notes', column: 'body', rowId: 'n1', tenantId: 'acme' };

describe('createFieldCipher({ kms })', () => {
  it('round-trips typed values with per-tenant data keys wrapped by the KMS', async () => {
    const { fc } = setup();
    expect(fc.mode).toBe('kms');
    const values = [
      'hello',
      12,
      -0,
      Number.NaN,
      true,
      new Date(5),
      { a: [1] },
      null,
      2n ** 64n + 1n,
      -(2n ** 70n),
      Buffer.from([0, 1, 2, 255]),
      [],
      ['J45', 3, { since: '2020-01-01' }, null],
    ];
    for (const value of values) {
      const stored = await fc.encrypt(value, ctx);
      expect(stored).toMatch(/^custos:[A-Za-z0-9_-]+\.custos:[A-Za-z0-9_-]+$/);
      expect(await fc.decrypt(stored, ctx)).toStrictEqual(value);
    }
    // A Uint8Array comes back as a Buffer (a Uint8Array) with the same bytes.
    const bytes = new Uint8Array([9, 8, 7]);
    const back = await fc.decrypt(await fc.encrypt(bytes, ctx), ctx);
    expect(Buffer.isBuffer(back) && back.equals(bytes)).toBe(true);
  });

  it("refuses another tenant's, row's or column's context, and a swapped wrapped key", async () => {
    const { fc } = setup();
    const stored = await fc.encrypt('secret', ctx);
    const other = await fc.encrypt('other', { ...ctx, tenantId: 'globex' });
    const failed = expect.objectContaining({
      code: 'ERR_DECRYPTION_FAILED',
      // Where it failed (table and column), never the value, row or tenant.
      message: expect.stringMatching(new RegExp(`^decryption failed for ${ctx.table}\\.`)),
    });
    await expect(fc.decrypt(stored, { ...ctx, tenantId: 'globex' })).rejects.toEqual(failed);
    await expect(fc.decrypt(stored, { ...ctx, rowId: 'n2' })).rejects.toEqual(failed);
    await expect(fc.decrypt(stored, { ...ctx, column: 'title' })).rejects.toEqual(failed);
    const [envelope] = stored.split('.');
    const [, otherWrapped] = other.split('.');
    await expect(fc.decrypt(`${envelope}.${otherWrapped}`, ctx)).rejects.toEqual(failed);
    await expect(
      fc.decrypt(`${envelope}.${otherWrapped}`, { ...ctx, tenantId: 'globex' }),
    ).rejects.toEqual(failed);
  });

  it('makes one KMS call for a burst of encryptions of a new tenant (single flight), then none', async () => {
    const { fc, calls } = setup();
    const stored = await Promise.all(
      Array.from({ length: 50 }, (_, i) => fc.encrypt(`v${i}`, { ...ctx, rowId: i })),
    );
    expect(calls.generate).toBe(1);
    await Promise.all(stored.map((s, i) => fc.decrypt(s, { ...ctx, rowId: i })));
    expect(calls.unwrap).toBe(0);
    await fc.encrypt('x', { ...ctx, tenantId: 'globex' });
    expect(calls.generate).toBe(2);
  });

  it('bounds the caches in time: expired data keys are replaced and unwrapped again', async () => {
    const { keyring, kms, calls, fc, clock } = setup({ ttlSeconds: 60 });
    const first = await fc.encrypt('a', ctx);
    clock.advance(61);
    const second = await fc.encrypt('b', ctx);
    expect(calls.generate).toBe(2);
    expect(first.split('.')[1]).not.toBe(second.split('.')[1]);
    expect(await fc.decrypt(first, ctx)).toBe('a');
    expect(calls.unwrap).toBe(1);
    // A second cipher (another process) unwraps once, then serves from its cache.
    const reader = createFieldCipher({ kms, keyring });
    expect(await reader.decrypt(first, ctx)).toBe('a');
    expect(await reader.decrypt(first, ctx)).toBe('a');
    expect(calls.unwrap).toBe(2);
  });

  it('bounds the caches in size and data keys in uses', async () => {
    const { fc, calls } = setup({ maxEntries: 2, maxUses: 3 });
    for (let i = 0; i < 7; i++) await fc.encrypt('x', ctx);
    expect(calls.generate).toBe(3);
    const stored = await fc.encrypt('x', { ...ctx, tenantId: 't0' });
    await fc.encrypt('x', { ...ctx, tenantId: 't1' });
    await fc.encrypt('x', { ...ctx, tenantId: 't2' });
    const before = calls.unwrap;
    expect(await fc.decrypt(stored, { ...ctx, tenantId: 't0' })).toBe('x');
    expect(calls.unwrap).toBe(before + 1);
  });

  it('re-encrypts under the rotated KMS key version, which describe reports as current', async () => {
    const { keyring, fc, clock } = setup();
    const old = await fc.encrypt('data', ctx);
    expect(await fc.describe(old)).toMatchObject({ keyName: 'kek', keyVersion: 1, current: true });
    keyring.rotate('kek');
    clock.advance(2);
    expect(await fc.describe(old)).toMatchObject({ keyVersion: 1, current: false });
    const moved = await fc.reencrypt(old, ctx);
    expect(await fc.describe(moved)).toMatchObject({
      keyName: 'kek',
      keyVersion: 2,
      current: true,
    });
    expect(await fc.decrypt(moved, ctx)).toBe('data');
    expect((await fc.currentKeys()).randomized).toEqual({
      keyId: keyring.info('kek').id,
      keyVersion: 2,
    });
  });

  it('a value wrapped by another KMS key with the same version number is not current', async () => {
    const { keyring, fc } = setup();
    keyring.createKey('old-kek');
    const retired = createFieldCipher({
      kms: createKeyringKms(keyring, { keyName: 'old-kek' }),
      keyring,
      deterministicKeyName: 'old-deterministic',
    });
    keyring.createKey('old-deterministic', { algorithm: 'aes-256-gcm-siv' });
    const det = { ...ctx, deterministic: true };
    const cases = [
      { context: ctx, stored: await retired.encrypt('x', ctx), now: 'kek', was: 'old-kek' },
      {
        context: det,
        stored: await retired.encrypt('y', det),
        now: 'deterministic',
        was: 'old-deterministic',
      },
    ];
    for (const { context, stored, now, was } of cases) {
      // Every key here is at version 1: only the key id tells them apart.
      expect(await fc.describe(stored)).toEqual({
        keyId: keyring.info(was).id,
        keyName: was,
        keyVersion: 1,
        deterministic: context === det,
        current: false,
      });
      const moved = await fc.reencrypt(stored, context);
      expect(await fc.describe(moved)).toMatchObject({
        keyId: keyring.info(now).id,
        keyVersion: 1,
        current: true,
      });
      expect(await fc.decrypt(moved, context)).toBe(await retired.decrypt(stored, context));
    }
  });

  it('reads values written in keyring mode, and moves them to KMS mode on re-encryption', async () => {
    const { keyring, fc } = setup();
    const legacy = createFieldCipher({ keyring }).encrypt('legacy', ctx);
    expect(await fc.decrypt(legacy, ctx)).toBe('legacy');
    expect(await fc.describe(legacy)).toMatchObject({ keyName: 'default', current: false });
    const moved = await fc.reencrypt(legacy, ctx);
    expect(moved).toContain('.');
    expect(await fc.decrypt(moved, ctx)).toBe('legacy');
  });

  it('uses the keyring for deterministic columns and blind indexes, and says so without one', async () => {
    const { keyring, fc } = setup();
    const det = { ...ctx, deterministic: true };
    const a = await fc.encrypt('jane', det);
    expect(a).toBe(await fc.encrypt('jane', { ...det, rowId: 'other' }));
    expect(await fc.decrypt(a, det)).toBe('jane');
    expect(await fc.blindIndex('jane', ctx)).toBe(
      createFieldCipher({ keyring }).blindIndex('jane', ctx),
    );
    expect(await fc.blindIndexCandidates('jane', ctx)).toHaveLength(1);
    expect(await fc.deterministicCandidates('jane', det)).toEqual([a]);

    const bare = createFieldCipher({ kms: createKeyringKms(keyring, { keyName: 'kek' }) });
    await expect(bare.blindIndex('x', ctx)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/needs a keyring/),
    });
    await expect(bare.decrypt(a, det)).rejects.toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
  });

  it('refuses plaintext and rejects (never throws synchronously)', async () => {
    const { fc } = setup();
    const result = fc.decrypt('Jane Doe', ctx);
    expect(result).toBeInstanceOf(Promise);
    await expect(result).rejects.toMatchObject({ code: 'ERR_FIELD_NOT_ENCRYPTED' });
  });
});

describe('createKeyringKms', () => {
  it('binds the tenant to the wrapped key and refuses non-key payloads', async () => {
    const keyring = new Keyring();
    keyring.createKey('default');
    const kms = createKeyringKms(keyring);
    const { plaintext, wrapped } = await kms.generateDataKey({ tenantId: 7 });
    expect(plaintext).toHaveLength(32);
    expect(Buffer.from(await kms.unwrapDataKey(wrapped, { tenantId: '7' })).equals(plaintext)).toBe(
      true,
    );
    await expect(kms.unwrapDataKey(wrapped, { tenantId: 8 })).rejects.toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
    });
    await expect(kms.unwrapDataKey(wrapped, {})).rejects.toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
    });
    const notAKey = keyring.encryptToString('default', 'short', {
      aad: { purpose: 'field-data-key' },
    });
    await expect(kms.unwrapDataKey(notAKey, {})).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    expect(kms.describeWrappedKey(wrapped)).toEqual({
      keyId: keyring.info('default').id,
      keyVersion: 1,
    });
  });
});
