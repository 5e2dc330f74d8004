import { describe, expect, it } from 'vitest';
import { Keyring } from '../crypto/index.js';
import { createFieldCipher } from './field-cipher.js';
import { createKeyringKms } from './field-kms.js';
import { createRowCodec, type TableEncryption } from './rows.js';

function setup() {
  const keyring = new Keyring();
  keyring.createKey('default');
  keyring.createKey('deterministic', { algorithm: 'aes-256-gcm-siv' });
  keyring.createKey('blind-index');
  return keyring;
}

const patients: TableEncryption = {
  table: 'patients',
  idColumn: 'id',
  tenantColumn: 'clinic_id',
  columns: {
    ssn: true,
    dob: { padding: { blockBytes: 16 } },
    email: {
      deterministic: true,
      blindIndex: { indexColumn: 'email_bidx', normalize: true },
    },
  },
};

const row = {
  id: 'p-1',
  clinic_id: 'c-9',
  name: 'Jane',
  ssn: '078-05-1120',
  dob: new Date('1990-04-01'),
  email: 'Jane@Example.com',
};

describe('createRowCodec', () => {
  it('encrypts the configured columns, fills blind indexes, and decrypts them back', () => {
    const codec = createRowCodec(createFieldCipher({ keyring: setup() }), patients);
    const stored = codec.encryptRow(row);
    expect(stored.name).toBe('Jane');
    expect(stored.id).toBe('p-1');
    for (const column of ['ssn', 'dob', 'email'] as const) {
      expect(String(stored[column])).toMatch(/^custos:/);
    }
    const withIndex = stored as typeof stored & { email_bidx: string };
    expect(withIndex.email_bidx).toBe(codec.blindIndex('email', ' jane@example.COM', 'c-9'));
    expect(codec.decryptRow(stored)).toEqual({ ...row, email_bidx: withIndex.email_bidx });
    expect(codec.decryptRows([stored, stored])).toHaveLength(2);
  });

  it('binds each value to its row and tenant: a value copied to another row is refused', () => {
    const codec = createRowCodec(createFieldCipher({ keyring: setup() }), patients);
    const a = codec.encryptRow(row);
    const b = codec.encryptRow({ ...row, id: 'p-2' });
    expect(() => codec.decryptRow({ ...b, ssn: a.ssn })).toThrow(
      expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED' }),
    );
    expect(() => codec.decryptRow({ ...a, clinic_id: 'c-10' })).toThrow(
      expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED' }),
    );
    // Deterministic: equal across rows by design.
    expect(a.email).toBe(b.email);
  });

  it('keeps NULL as null (and its index), and skips columns not selected', () => {
    const codec = createRowCodec(createFieldCipher({ keyring: setup() }), patients);
    const stored = codec.encryptRow({ ...row, ssn: null, email: null });
    expect(stored.ssn).toBeNull();
    expect((stored as Record<string, unknown>).email_bidx).toBeNull();
    expect(codec.decryptRow({ id: 'p-1', clinic_id: 'c-9', name: 'x' })).toEqual({
      id: 'p-1',
      clinic_id: 'c-9',
      name: 'x',
    });
  });

  it('says which column is missing instead of encrypting unbound, and refuses plaintext', () => {
    const codec = createRowCodec(createFieldCipher({ keyring: setup() }), patients);
    expect(() => codec.encryptRow({ ssn: 'x', clinic_id: 'c' })).toThrow(
      expect.objectContaining({
        code: 'ERR_FIELD_CONTEXT_MISSING',
        message: expect.stringMatching(/patients\.ssn is bound to id/),
      }),
    );
    expect(() => codec.decryptRow({ ...row })).toThrow(
      expect.objectContaining({ code: 'ERR_FIELD_NOT_ENCRYPTED' }),
    );
    expect(() => codec.blindIndex('ssn', 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('refuses a tenant-bound table without its tenant: writes, reads and lookups', () => {
    const codec = createRowCodec(createFieldCipher({ keyring: setup() }), patients);
    const { clinic_id: _, ...untenanted } = row;
    expect(() => codec.encryptRow(untenanted)).toThrow(
      expect.objectContaining({
        code: 'ERR_FIELD_CONTEXT_MISSING',
        message: 'patients.ssn is bound to clinic_id, which the row does not hold',
      }),
    );
    const { clinic_id: __, ...storedUntenanted } = codec.encryptRow(row);
    expect(() => codec.decryptRow(storedUntenanted)).toThrow(
      expect.objectContaining({ code: 'ERR_FIELD_CONTEXT_MISSING' }),
    );
    for (const lookup of [
      () => codec.blindIndex('email', 'jane@example.com'),
      () => codec.blindIndexCandidates('email', 'jane@example.com'),
    ]) {
      expect(lookup).toThrow(
        expect.objectContaining({
          code: 'ERR_FIELD_CONTEXT_MISSING',
          message: 'patients.email is bound to clinic_id: pass the tenant id to look it up',
        }),
      );
    }
  });

  it('works the same over a KMS-mode cipher, returning promises', async () => {
    const keyring = setup();
    const fc = createFieldCipher({ kms: createKeyringKms(keyring), keyring });
    const codec = createRowCodec(fc, patients);
    const stored = await codec.encryptRow(row);
    expect(String(stored.ssn)).toContain('.');
    const back = await codec.decryptRow(stored);
    expect(back).toMatchObject(row);
    await expect(codec.encryptRow({ ssn: 'x' })).rejects.toMatchObject({
      code: 'ERR_FIELD_CONTEXT_MISSING',
    });
    expect(await codec.decryptRows([stored])).toHaveLength(1);
    expect(await codec.blindIndexCandidates('email', 'jane@example.com', 'c-9')).toHaveLength(1);
  });

  it('refuses a configuration without a table or columns', () => {
    const fc = createFieldCipher({ keyring: setup() });
    expect(() => createRowCodec(fc, { table: '', columns: { a: true } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => createRowCodec(fc, { table: 't', columns: {} })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});

describe('createRowCodec: data classes of encrypted columns', () => {
  it('reports each classified column canonically spelled, and leaves the values unchanged', () => {
    const codec = createRowCodec(createFieldCipher({ keyring: setup() }), {
      table: 'patients',
      idColumn: 'id',
      columns: { ssn: { dataClass: 'PHI' }, email: { dataClass: 'pii' as 'PII' }, note: true },
    });
    expect(codec.dataClasses).toEqual({ ssn: 'PHI', email: 'PII' });
    expect(Object.isFrozen(codec.dataClasses)).toBe(true);
    const stored = codec.encryptRow({ id: 1, ssn: '078-05-1120', email: 'a@b.c', note: 'n' });
    expect(stored.ssn).not.toBe('078-05-1120');
    expect(codec.decryptRow(stored)).toMatchObject({ ssn: '078-05-1120', email: 'a@b.c' });
  });

  it('refuses an unknown class when the codec is created, naming the column and the classes', () => {
    const create = (dataClass: string) =>
      createRowCodec(createFieldCipher({ keyring: setup() }), {
        table: 'patients',
        columns: { ssn: { dataClass: dataClass as 'PHI' } },
      });
    for (const bad of ['secret', ' PHI', '']) {
      expect(() => create(bad)).toThrow(
        'patients.ssn: dataClass must be one of PHI, PII, credential, payment, internal',
      );
    }
  });
});
