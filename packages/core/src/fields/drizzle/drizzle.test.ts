import { AsyncLocalStorage } from 'node:async_hooks';
import { POSTGRES_URL, requireService, uniqueName } from '@custos/test-support/services';
import Database from 'better-sqlite3';
import { eq, sql } from 'drizzle-orm';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { pgTable, text as pgText } from 'drizzle-orm/pg-core';
import { sqliteTable, text as sqliteText } from 'drizzle-orm/sqlite-core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring } from '../../crypto/index.js';
import { createFieldCipher } from '../field-cipher.js';
import { createKeyringKms } from '../field-kms.js';
import { encryptedColumnType, pgEncrypted, sqliteEncrypted } from './index.js';

const keyring = new Keyring();
keyring.createKey('default');
keyring.createKey('deterministic', { algorithm: 'aes-256-gcm-siv' });
const fc = createFieldCipher({ keyring });
const tenants = new AsyncLocalStorage<string>();
const options = { cipher: fc, table: 'patients', tenantId: () => tenants.getStore() };

const sqlitePatients = sqliteTable('patients', {
  id: sqliteText('id').primaryKey(),
  name: sqliteText('name'),
  ssn: sqliteEncrypted<string>('ssn', options),
  birthDate: sqliteEncrypted<Date>('birth_date', options),
  profile: sqliteEncrypted<{ allergies: string[] }>('profile', options),
  email: sqliteEncrypted<string>('email', { ...options, deterministic: true }),
});

const pgPatients = pgTable('patients', {
  id: pgText('id').primaryKey(),
  name: pgText('name'),
  ssn: pgEncrypted<string>('ssn', options),
  birthDate: pgEncrypted<Date>('birth_date', options),
  profile: pgEncrypted<{ allergies: string[] }>('profile', options),
  email: pgEncrypted<string>('email', { ...options, deterministic: true }),
});

const DDL =
  'create table patients (id text primary key, name text, ssn text, birth_date text, profile text, email text)';
const jane = {
  id: 'p1',
  name: 'Jane',
  ssn: '078-05-1120',
  birthDate: new Date('1990-04-01T00:00:00Z'),
  profile: { allergies: ['penicillin'] },
  email: 'jane@example.com',
};

type Patient = { [K in keyof typeof jane]: (typeof jane)[K] | null };
type Db = {
  insert: (row: typeof jane) => Promise<unknown>;
  selectAll: () => Promise<Patient[]>;
  byEmail: (email: string) => Promise<Patient[]>;
  raw: (query: string) => Promise<Record<string, unknown>[]>;
};

function behaviour(name: string, open: () => Db) {
  describe(`Drizzle encrypted columns on ${name}`, () => {
    it('encrypts on write (nothing readable in the table) and decrypts on read with types', async () => {
      const db = open();
      await tenants.run('clinic-1', () => db.insert(jane));
      const [raw] = await db.raw("select * from patients where id = 'p1'");
      for (const column of ['ssn', 'birth_date', 'profile', 'email']) {
        expect(String(raw?.[column])).toMatch(/^custos:/);
      }
      expect(JSON.stringify(raw)).not.toContain('078-05-1120');
      expect(raw?.name).toBe('Jane');
      const rows = await tenants.run('clinic-1', () => db.selectAll());
      expect(rows).toEqual([{ ...jane }]);
      expect(rows[0]?.birthDate).toBeInstanceOf(Date);
    });

    it('finds rows by a deterministic column with eq()', async () => {
      const db = open();
      const found = await tenants.run('clinic-1', () => db.byEmail('jane@example.com'));
      expect(found.map((r) => r.id)).toEqual(['p1']);
      expect(await tenants.run('clinic-1', () => db.byEmail('john@example.com'))).toEqual([]);
    });

    it("refuses to read another tenant's rows", async () => {
      const db = open();
      await expect(tenants.run('clinic-2', () => db.selectAll())).rejects.toMatchObject({
        code: 'ERR_DECRYPTION_FAILED',
      });
    });

    it('refuses to write or read a tenant-bound column outside a tenant scope', async () => {
      // Fail closed: without a tenant the value would be encrypted under the shared key, unbound.
      const db = open();
      const outside = { ...jane, id: 'p-outside', email: 'outside@example.com' };
      await expect(db.insert(outside)).rejects.toMatchObject({
        code: 'ERR_FIELD_CONTEXT_MISSING',
        message:
          'patients.ssn is bound to a tenant, and tenantId() returned none: run this inside the tenant scope',
      });
      expect(await db.raw("select id from patients where id = 'p-outside'")).toEqual([]);
      await expect(db.selectAll()).rejects.toMatchObject({ code: 'ERR_FIELD_CONTEXT_MISSING' });
      await expect(db.byEmail('jane@example.com')).rejects.toMatchObject({
        code: 'ERR_FIELD_CONTEXT_MISSING',
      });
    });

    it('fails loudly on a plaintext value instead of returning it', async () => {
      const db = open();
      await db.raw(
        "insert into patients (id, name, ssn) values ('p2', 'Legacy', '219-09-9999') returning id",
      );
      await expect(tenants.run('clinic-1', () => db.selectAll())).rejects.toMatchObject({
        code: 'ERR_FIELD_NOT_ENCRYPTED',
        message: expect.stringContaining('patients.ssn'),
      });
    });
  });
}

const sqlite = new Database(':memory:');
sqlite.exec(DDL);
const sdb = drizzleSqlite(sqlite);
behaviour('SQLite (better-sqlite3)', () => ({
  insert: async (row) => sdb.insert(sqlitePatients).values(row).run(),
  selectAll: async () => sdb.select().from(sqlitePatients).all(),
  byEmail: async (email) =>
    sdb.select().from(sqlitePatients).where(eq(sqlitePatients.email, email)).all(),
  raw: async (query) => sdb.all(sql.raw(query)),
}));

const hasPostgres = await requireService('postgres');
describe.runIf(hasPostgres)('PostgreSQL', () => {
  const schema = uniqueName('fields_drizzle');
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` });
  const pdb = drizzlePg(pool);
  beforeAll(async () => {
    await pool.query(`create schema ${schema}`);
    await pool.query(DDL);
  });
  afterAll(async () => {
    await pool.query(`drop schema ${schema} cascade`);
    await pool.end();
  });
  behaviour('PostgreSQL (pg)', () => ({
    // Drizzle queries are lazy: await them inside the tenant scope, where they run.
    insert: async (row) => await pdb.insert(pgPatients).values(row),
    selectAll: async () => await pdb.select().from(pgPatients),
    byEmail: async (email) =>
      await pdb.select().from(pgPatients).where(eq(pgPatients.email, email)),
    raw: async (query) => (await pool.query(query)).rows,
  }));
});

describe('encryptedColumnType', () => {
  it('refuses a KMS-mode cipher (Drizzle cannot await) and a missing table', () => {
    const kmsCipher = createFieldCipher({ kms: createKeyringKms(keyring) });
    expect(() => encryptedColumnType('ssn', { cipher: kmsCipher as never, table: 't' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => encryptedColumnType('ssn', { cipher: fc, table: '' })).toThrow(
      expect.objectContaining({ code: 'ERR_FIELD_CONTEXT_MISSING' }),
    );
  });
});
