import { describe, expect, it } from 'vitest';
import { Keyring, parseEnvelope } from '../crypto/index.js';
import { createFieldCipher } from './field-cipher.js';
import type { FieldContext, FieldValue } from './types.js';

function setup() {
  const keyring = new Keyring();
  keyring.createKey('default');
  keyring.createKey('deterministic', { algorithm: 'aes-256-gcm-siv' });
  return { keyring, fc: createFieldCipher({ keyring }) };
}

const ctx: FieldContext = { table: 'patients', column: 'ssn', rowId: 42, tenantId: 'acme' };
const failed = expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED' });

describe('createFieldCipher({ keyring })', () => {
  it('round-trips every value type, bound to its context', () => {
    const { fc } = setup();
    const values: FieldValue[] = [
      '078-05-1120',
      '',
      3.25,
      -0,
      2n ** 70n,
      false,
      new Date('2001-02-03T04:05:06.007Z'),
      Buffer.from([1, 2, 3]),
      Uint8Array.of(9, 8),
      null,
      { allergies: ['penicillin'], weightKg: 71.5 },
      [1, 2, 3],
    ];
    for (const value of values) {
      for (const context of [ctx, { table: 't', column: 'c' }, { ...ctx, deterministic: true }]) {
        const stored = fc.encrypt(value, context);
        expect(stored.startsWith('custos:')).toBe(true);
        const back = fc.decrypt(stored, context);
        if (value instanceof Uint8Array)
          expect(Buffer.from(value).equals(back as Buffer)).toBe(true);
        else expect(back).toStrictEqual(value);
      }
    }
  });

  it('refuses a ciphertext moved to another row, column, table or tenant, or with a changed byte', () => {
    const { fc } = setup();
    const stored = fc.encrypt('078-05-1120', ctx);
    const moved: FieldContext[] = [
      { ...ctx, rowId: 43 },
      { ...ctx, column: 'name' },
      { ...ctx, table: 'staff' },
      { ...ctx, tenantId: 'globex' },
      { table: ctx.table, column: ctx.column, rowId: 42 },
      { table: ctx.table, column: ctx.column, tenantId: 'acme' },
    ];
    for (const context of moved) expect(() => fc.decrypt(stored, context)).toThrow(failed);
    const bytes = parseEnvelope(stored);
    const binary = Buffer.concat([bytes.header, bytes.nonce, bytes.sealed]);
    for (let i = 0; i < binary.length; i++) {
      const tampered = Buffer.from(binary);
      tampered[i] = (tampered[i] as number) ^ 0x01;
      expect(() => fc.decrypt(`custos:${tampered.toString('base64url')}`, ctx)).toThrow(
        expect.objectContaining({
          code: expect.stringMatching(/^ERR_(DECRYPTION_FAILED|MALFORMED_CIPHERTEXT)$/),
        }),
      );
    }
  });

  it('treats a row id given as number or string alike (drivers return bigint ids as strings)', () => {
    const { fc } = setup();
    const stored = fc.encrypt('x', { table: 't', column: 'c', rowId: 7 });
    expect(fc.decrypt(stored, { table: 't', column: 'c', rowId: '7' })).toBe('x');
    expect(fc.decrypt(stored, { table: 't', column: 'c', rowId: 7n })).toBe('x');
  });

  it("uses a separate HKDF key per tenant: one tenant's key never opens another's data", () => {
    const { keyring, fc } = setup();
    const stored = fc.encrypt('secret', { table: 't', column: 'c', tenantId: 'a' });
    // Same associated data, but tenant b's derived key: still refused.
    const aad = { purpose: 'field', table: 't', column: 'c', tenant: 'a' };
    expect(() => keyring.decrypt(stored, { aad, keyContext: 'tenant/b' })).toThrow(failed);
    expect(() => keyring.decrypt(stored, { aad })).toThrow(failed);
    expect(keyring.decrypt(stored, { aad, keyContext: 'tenant/a' }).subarray(1).toString()).toBe(
      'secret',
    );
  });

  it('gives different ciphertexts for equal values in randomised mode', () => {
    const { fc } = setup();
    expect(fc.encrypt('same', ctx)).not.toBe(fc.encrypt('same', ctx));
  });

  it('pads lengths into buckets when asked, and never compresses', () => {
    const { fc } = setup();
    const padded = (n: number) =>
      fc.encrypt('a'.repeat(n), { ...ctx, padding: { blockBytes: 64 } }).length;
    expect(new Set([0, 1, 10, 40, 62].map(padded)).size).toBe(1);
    expect(padded(63)).toBeGreaterThan(padded(62));
    const plain = (s: string) => parseEnvelope(fc.encrypt(s, ctx)).sealed.length;
    // Highly compressible input: the ciphertext still grows byte for byte.
    expect(plain('a'.repeat(1000)) - plain('a'.repeat(10))).toBe(990);
    expect(fc.decrypt(fc.encrypt('abc', { ...ctx, padding: { blockBytes: 64 } }), ctx)).toBe('abc');
  });

  it('refuses plaintext and other formats with ERR_FIELD_NOT_ENCRYPTED, never echoing the value', () => {
    const { fc } = setup();
    const canary = 'CANARY-078-05-1120';
    for (const value of [canary, 42, Buffer.from(canary)]) {
      let error: Error | undefined;
      try {
        fc.decrypt(value as unknown as string, ctx);
      } catch (err) {
        error = err as Error;
      }
      expect(error).toMatchObject({ code: 'ERR_FIELD_NOT_ENCRYPTED' });
      expect(`${error?.message} ${error?.stack}`).not.toContain(canary);
      expect(error?.message).toContain('patients.ssn');
    }
  });

  it('never puts the plaintext into any error it throws (canary)', () => {
    const { fc } = setup();
    const canary = 'CANARY-PLAINTEXT-9f2c';
    const stored = fc.encrypt(canary, ctx);
    // One character of the ciphertext changed (well inside it, so the base64 stays canonical).
    const at = 30;
    const tampered = `${stored.slice(0, at)}${stored[at] === 'A' ? 'B' : 'A'}${stored.slice(at + 1)}`;
    // Named by table and column (the guide promises both), never by value or row id.
    const notAuthentic =
      'decryption failed for patients.ssn: the ciphertext or its associated data is not authentic (a value copied from another row, column or tenant, or a wrong key)';
    const attempts: [() => unknown, string, string][] = [
      [() => fc.decrypt(stored, { ...ctx, rowId: 1 }), 'ERR_DECRYPTION_FAILED', notAuthentic],
      [
        () => fc.decrypt(stored, { ...ctx, deterministic: true }),
        'ERR_DECRYPTION_FAILED',
        'decryption failed: patients.ssn holds a randomised ciphertext but the context says deterministic',
      ],
      [() => fc.decrypt(tampered, ctx), 'ERR_DECRYPTION_FAILED', notAuthentic],
      [
        () => fc.decrypt(stored, { table: '', column: 'x' } as FieldContext),
        'ERR_FIELD_CONTEXT_MISSING',
        'the field context needs a table',
      ],
      [
        () => fc.encrypt(canary, { table: 'x' } as FieldContext),
        'ERR_FIELD_CONTEXT_MISSING',
        'the field context needs a column',
      ],
    ];
    for (const [attempt, code, message] of attempts) {
      let error: Error | undefined;
      try {
        attempt();
      } catch (err) {
        error = err as Error;
      }
      expect(error).toMatchObject({ code, message });
      expect(`${error?.message}\n${error?.stack}\n${JSON.stringify(error)}`).not.toContain(canary);
    }
  });

  it('requires table and column (ERR_FIELD_CONTEXT_MISSING)', () => {
    const { fc } = setup();
    const stored = fc.encrypt('x', ctx);
    // A deterministic value too: its mode is read from the value before the context is used.
    const storedDeterministic = fc.encrypt('x', { ...ctx, deterministic: true });
    for (const value of [stored, storedDeterministic]) {
      for (const bad of [undefined, null, {}, { table: 'patients' }]) {
        expect(() => fc.decrypt(value, bad as FieldContext)).toThrow(
          expect.objectContaining({ code: 'ERR_FIELD_CONTEXT_MISSING' }),
        );
        expect(() => fc.reencrypt(value, bad as FieldContext)).toThrow(
          expect.objectContaining({ code: 'ERR_FIELD_CONTEXT_MISSING' }),
        );
      }
    }
    for (const bad of [
      undefined,
      {},
      { table: 't' },
      { column: 'c' },
      { table: '', column: 'c' },
    ]) {
      expect(() => fc.encrypt('x', bad as FieldContext)).toThrow(
        expect.objectContaining({ code: 'ERR_FIELD_CONTEXT_MISSING' }),
      );
    }
    expect(() => fc.encrypt('x', { table: 't', column: 'c', rowId: '' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('refuses a keyring without the key, or with a deterministic key as the main key', () => {
    const keyring = new Keyring();
    expect(() => createFieldCipher({ keyring })).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_NOT_FOUND' }),
    );
    keyring.createKey('siv', { algorithm: 'aes-256-gcm-siv' });
    expect(() => createFieldCipher({ keyring, keyName: 'siv' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => createFieldCipher({} as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});

describe('rotation and re-encryption', () => {
  it('old ciphertexts decrypt, new ones use the new version, reencrypt moves them to the primary', () => {
    const { keyring, fc } = setup();
    const old = fc.encrypt({ dose: 5 }, ctx);
    const oldDet = fc.encrypt('jane@example.com', { ...ctx, deterministic: true });
    expect(fc.describe(old)).toMatchObject({ keyName: 'default', keyVersion: 1, current: true });
    keyring.rotate('default');
    keyring.rotate('deterministic');
    expect(fc.describe(old)).toMatchObject({ keyVersion: 1, current: false, deterministic: false });
    expect(fc.describe(oldDet)).toMatchObject({
      keyName: 'deterministic',
      keyVersion: 1,
      current: false,
      deterministic: true,
    });
    expect(fc.decrypt(old, ctx)).toEqual({ dose: 5 });
    const fresh = fc.encrypt('new', ctx);
    expect(fc.describe(fresh)).toMatchObject({ keyVersion: 2, current: true });

    const moved = fc.reencrypt(old, ctx);
    const movedDet = fc.reencrypt(oldDet, { ...ctx, deterministic: true });
    expect(fc.describe(moved)).toMatchObject({
      keyVersion: 2,
      current: true,
      deterministic: false,
    });
    expect(fc.describe(movedDet)).toMatchObject({
      keyVersion: 2,
      current: true,
      deterministic: true,
    });
    expect(fc.decrypt(moved, ctx)).toEqual({ dose: 5 });
    expect(fc.decrypt(movedDet, { ...ctx, deterministic: true })).toBe('jane@example.com');
    // Re-encryption keeps the binding: the result is still refused elsewhere.
    expect(() => fc.decrypt(moved, { ...ctx, rowId: 1 })).toThrow(failed);
    expect(fc.currentKeys()).toEqual({
      randomized: { keyId: keyring.info('default').id, keyVersion: 2 },
      deterministic: { keyId: keyring.info('deterministic').id, keyVersion: 2 },
    });
  });

  it('a value under another key with the same version number is not current: reencrypt moves it', () => {
    const keyring = new Keyring();
    keyring.createKey('default');
    keyring.createKey('deterministic', { algorithm: 'aes-256-gcm-siv' });
    keyring.createKey('retired');
    keyring.createKey('retired-deterministic', { algorithm: 'aes-256-gcm-siv' });
    const retired = createFieldCipher({
      keyring,
      keyName: 'retired',
      deterministicKeyName: 'retired-deterministic',
    });
    const fc = createFieldCipher({ keyring });
    const det = { ...ctx, deterministic: true };
    const cases = [
      { context: ctx, stored: retired.encrypt('x', ctx), key: 'default' },
      { context: det, stored: retired.encrypt('y', det), key: 'deterministic' },
    ];
    for (const { context, stored, key } of cases) {
      // Both keys are at version 1: only the key id tells them apart.
      expect(fc.describe(stored)).toEqual({
        keyId: parseEnvelope(stored).keyId,
        keyName: `retired${key === 'default' ? '' : '-deterministic'}`,
        keyVersion: 1,
        deterministic: context === det,
        current: false,
      });
      expect(keyring.info(key).primaryVersion).toBe(1);
      const moved = fc.reencrypt(stored, context);
      expect(parseEnvelope(moved).keyId).toBe(keyring.info(key).id);
      expect(fc.describe(moved)).toMatchObject({ keyName: key, keyVersion: 1, current: true });
      expect(fc.decrypt(moved, context)).toBe(fc.decrypt(stored, context));
    }
  });

  it('keeps the padding of a padded value through re-encryption', () => {
    const { keyring, fc } = setup();
    const context = { ...ctx, padding: { blockBytes: 128 } };
    const old = fc.encrypt('short', context);
    keyring.rotate('default');
    const moved = fc.reencrypt(old, ctx);
    expect(moved.length).toBe(old.length);
    expect(fc.decrypt(moved, ctx)).toBe('short');
  });

  it('stops decrypting a version below minDecryptionVersion (ERR_KEY_DISABLED)', () => {
    const { keyring, fc } = setup();
    const old = fc.encrypt('x', ctx);
    keyring.rotate('default');
    keyring.setMinDecryptionVersion('default', 2);
    expect(() => fc.decrypt(old, ctx)).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_DISABLED' }),
    );
  });
});
