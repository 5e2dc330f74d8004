import { describe, expect, it } from 'vitest';
import { Keyring } from '../crypto/index.js';
import { createFieldCipher } from './field-cipher.js';
import { createKeyringKms, type DataKeyContext, type FieldKms } from './field-kms.js';

/** The in-process KMS, recording the context of every data-key request. */
function recordingKms(keyring: Keyring) {
  const inner = createKeyringKms(keyring, { keyName: 'kek' });
  const generated: DataKeyContext[] = [];
  const unwrapped: DataKeyContext[] = [];
  const kms: FieldKms = {
    generateDataKey(context) {
      generated.push(context);
      return inner.generateDataKey(context);
    },
    unwrapDataKey(wrapped, context) {
      unwrapped.push(context);
      return inner.unwrapDataKey(wrapped, context);
    },
    describeWrappedKey: (wrapped) => inner.describeWrappedKey(wrapped),
    currentKey: () => inner.currentKey(),
  };
  return { kms, generated, unwrapped };
}

function setup() {
  const keyring = new Keyring();
  keyring.createKey('kek');
  const recording = recordingKms(keyring);
  return { keyring, ...recording, fc: createFieldCipher({ kms: recording.kms }) };
}

const ctx = { table: 'notes', column: 'body', rowId: 'n1' };

describe('KMS field cipher tenants', () => {
  it('asks the KMS for data keys bound to the tenant, one per tenant, none shared with no tenant', async () => {
    const { fc, generated } = setup();
    await fc.encrypt('a', { ...ctx, tenantId: 'acme' });
    await fc.encrypt('b', { ...ctx, tenantId: 'acme' });
    await fc.encrypt('c', ctx);
    await fc.encrypt('d', { ...ctx, tenantId: '-' });
    await fc.encrypt('e', { ...ctx, tenantId: 7 });
    await fc.encrypt('f', { ...ctx, tenantId: '7' });
    expect(generated).toEqual([{ tenantId: 'acme' }, {}, { tenantId: '-' }, { tenantId: 7 }]);
  });

  it('unwraps a data key with the tenant of the value being read', async () => {
    const { kms, fc, unwrapped } = setup();
    const stored = await fc.encrypt('a', { ...ctx, tenantId: 'acme' });
    const reader = createFieldCipher({ kms });
    expect(await reader.decrypt(stored, { ...ctx, tenantId: 'acme' })).toBe('a');
    expect(unwrapped).toEqual([{ tenantId: 'acme' }]);
  });

  it('reads a null tenant id as no tenant, as keyring mode does', async () => {
    const { kms, fc, generated } = setup();
    const withNull = { ...ctx, tenantId: null as unknown as string };
    const storedWithNull = await fc.encrypt('a', withNull);
    const storedWithout = await fc.encrypt('b', ctx);
    expect(generated).toEqual([{}]);
    const reader = createFieldCipher({ kms });
    expect(await reader.decrypt(storedWithNull, ctx)).toBe('a');
    expect(await reader.decrypt(storedWithout, withNull)).toBe('b');
    expect(await reader.reencrypt(storedWithNull, withNull)).toContain('.');
  });

  it('re-encrypts with the cached data key while the KMS key has not changed', async () => {
    const { fc, generated } = setup();
    const stored = await Promise.all(['a', 'b', 'c'].map((v) => fc.encrypt(v, ctx)));
    const moved = [];
    for (const value of stored) moved.push(await fc.reencrypt(value, ctx));
    expect(generated).toHaveLength(1);
    expect(new Set(moved.map((m) => m.split('.')[1]))).toEqual(new Set([stored[0]?.split('.')[1]]));
    expect(await Promise.all(moved.map((m) => fc.decrypt(m, ctx)))).toEqual(['a', 'b', 'c']);
  });
});
