import { POSTGRES_URL, requireService, uniqueName } from '@custos/test-support/services';
import Database from 'better-sqlite3';
import { type Dialect, Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring } from '../../crypto/index.js';
import { createFieldCipher } from '../field-cipher.js';
import { createKeyringKms } from '../field-kms.js';
import { createFieldEncryptionPlugin, createRowCodec, type TableEncryption } from './index.js';

interface PatientTable {
  id: string;
  clinic_id: string;
  name: string | null;
  ssn: string | null;
  email: string | null;
  email_bidx: string | null;
}
interface VisitTable {
  id: string;
  patient_id: string;
  notes: string;
}
interface DB {
  patients: PatientTable;
  visits: VisitTable;
}

const keyring = new Keyring();
keyring.createKey('default');
keyring.createKey('blind-index');
const fc = createFieldCipher({ keyring });
const patients: TableEncryption = {
  table: 'patients',
  idColumn: 'id',
  tenantColumn: 'clinic_id',
  columns: { ssn: true, email: { blindIndex: { indexColumn: 'email_bidx', normalize: true } } },
};
const codec = createRowCodec(fc, patients);
const DDL = [
  'create table patients (id text primary key, clinic_id text not null, name text, ssn text, email text, email_bidx text)',
  'create table visits (id text primary key, patient_id text not null, notes text not null)',
];

function behaviour(name: string, dialect: () => Dialect) {
  describe(`Kysely plugin on ${name}`, () => {
    let db: Kysely<DB>;
    beforeAll(async () => {
      db = new Kysely<DB>({
        dialect: dialect(),
        plugins: [createFieldEncryptionPlugin({ cipher: fc, tables: [patients] })],
      });
      for (const statement of DDL) await sql.raw(statement).execute(db);
    });
    afterAll(() => db.destroy());
    const raw = () => db.withoutPlugins();

    it('encrypts inserted rows (one or many) and fills the blind index', async () => {
      await db
        .insertInto('patients')
        .values([
          {
            id: 'p1',
            clinic_id: 'c1',
            name: 'Jane',
            ssn: '078-05-1120',
            email: 'Jane@Example.com',
          },
          { id: 'p2', clinic_id: 'c1', name: 'John', ssn: '219-09-9999', email: null },
        ])
        .execute();
      const rows = await raw().selectFrom('patients').selectAll().orderBy('id').execute();
      expect(rows[0]?.ssn).toMatch(/^custos:/);
      expect(rows[0]?.email).toMatch(/^custos:/);
      expect(rows[0]?.email_bidx).toBe(codec.blindIndex('email', 'jane@example.com', 'c1'));
      expect(rows[1]?.email).toBeNull();
      expect(rows[1]?.email_bidx).toBeNull();
      expect(JSON.stringify(rows)).not.toContain('078-05-1120');
    });

    it('finds rows by blind index across key rotations: an encryption-key rotation changes nothing, a blind-index rotation is covered by the candidates', async () => {
      // A keyring of its own: rotating the shared one would change the other tests' indexes.
      const own = new Keyring();
      own.createKey('default');
      own.createKey('blind-index');
      const contacts: TableEncryption = { ...patients, table: 'contacts' };
      const contactCodec = createRowCodec(createFieldCipher({ keyring: own }), contacts);
      // The same connection, with a plugin of its own (destroying a second instance would end
      // the shared pool).
      const cdb = (raw() as unknown as Kysely<Record<string, Record<string, unknown>>>).withPlugin(
        createFieldEncryptionPlugin({
          cipher: createFieldCipher({ keyring: own }),
          tables: [contacts],
        }),
      );
      try {
        await sql.raw(DDL[0]?.replace('patients', 'contacts') as string).execute(cdb);
        const add = (id: string, email: string) =>
          cdb.insertInto('contacts').values({ id, clinic_id: 'c1', ssn: '1', email }).execute();
        const byIndex = async (email: string) =>
          (
            await cdb
              .selectFrom('contacts')
              .select('id')
              .where('email_bidx', 'in', contactCodec.blindIndexCandidates('email', email, 'c1'))
              .orderBy('id')
              .execute()
          ).map((r) => r.id);
        await add('a', 'same@example.com');
        own.rotate('default');
        await add('b', 'same@example.com');
        // Equality on the one index still finds rows written before the rotation.
        const equal = await cdb
          .selectFrom('contacts')
          .select('id')
          .where('email_bidx', '=', contactCodec.blindIndex('email', 'same@example.com', 'c1'))
          .orderBy('id')
          .execute();
        expect(equal.map((r) => r.id)).toEqual(['a', 'b']);
        own.rotate('blind-index');
        await add('c', 'same@example.com');
        expect(await byIndex('SAME@example.com')).toEqual(['a', 'b', 'c']);
        expect(() => contactCodec.blindIndexCandidates('email', 'same@example.com')).toThrow(
          expect.objectContaining({ code: 'ERR_FIELD_CONTEXT_MISSING' }),
        );
      } finally {
        await sql.raw('drop table contacts').execute(cdb);
      }
    });

    it('decrypts selected rows, including aliased columns, and finds rows by blind index', async () => {
      // Rows of its own (a clinic no other test uses): the test runs alone as well.
      await db
        .insertInto('patients')
        .values([
          {
            id: 'd1',
            clinic_id: 'c7',
            name: 'Dana',
            ssn: '078-05-1121',
            email: 'Dana@Example.com',
          },
          { id: 'd2', clinic_id: 'c7', name: 'Dan', ssn: '219-09-9998', email: null },
        ])
        .execute();
      const dana = await db
        .selectFrom('patients')
        .selectAll()
        .where('email_bidx', '=', codec.blindIndex('email', ' DANA@example.com', 'c7'))
        .executeTakeFirstOrThrow();
      expect(dana).toMatchObject({ id: 'd1', ssn: '078-05-1121', email: 'Dana@Example.com' });
      const aliased = await db
        .selectFrom('patients as p')
        .select(['p.id', 'p.clinic_id', 'p.ssn as social'])
        .where('p.id', '=', 'd2')
        .executeTakeFirstOrThrow();
      expect(aliased).toEqual({ id: 'd2', clinic_id: 'c7', social: '219-09-9998' });
    });

    it('refuses an insert that leaves out the tenant of a tenant-bound table, writing nothing', async () => {
      await expect(
        db
          .insertInto('patients')
          // A typed query could not leave clinic_id out; a dynamic one can.
          .values({ id: 'p-untenanted', name: 'X', ssn: '078-05-1120' } as never)
          .execute(),
      ).rejects.toMatchObject({
        code: 'ERR_FIELD_CONTEXT_MISSING',
        message: expect.stringMatching(/^patients\.ssn is bound to clinic_id/),
      });
      const written = await raw()
        .selectFrom('patients')
        .select('id')
        .where('id', '=', 'p-untenanted')
        .execute();
      expect(written).toEqual([]);
    });

    it('asks for the id and tenant columns when a select leaves them out', async () => {
      await expect(
        db.selectFrom('patients').select(['ssn']).where('id', '=', 'p1').execute(),
      ).rejects.toMatchObject({ code: 'ERR_FIELD_CONTEXT_MISSING' });
    });

    it('encrypts updates bound to the row named in the where clause, and refuses unbound ones', async () => {
      await db
        .updateTable('patients')
        .set({ ssn: '111-22-3333', email: 'new@example.com' })
        .where('id', '=', 'p2')
        .where('clinic_id', '=', 'c1')
        .execute();
      const stored = await raw()
        .selectFrom('patients')
        .selectAll()
        .where('id', '=', 'p2')
        .executeTakeFirstOrThrow();
      expect(stored.ssn).toMatch(/^custos:/);
      expect(stored.email_bidx).toBe(codec.blindIndex('email', 'new@example.com', 'c1'));
      expect(codec.decryptRow(stored)).toMatchObject({ ssn: '111-22-3333' });
      await expect(
        db.updateTable('patients').set({ ssn: 'x' }).where('name', '=', 'John').execute(),
      ).rejects.toMatchObject({
        code: 'ERR_FIELD_CONTEXT_MISSING',
        message: expect.stringMatching(/where\('id'/),
      });
      await expect(
        db
          .updateTable('patients')
          .set({ ssn: sql<string>`upper(name)` })
          .where('id', '=', 'p2')
          .execute(),
      ).rejects.toMatchObject({ code: 'ERR_FIELD_CONTEXT_MISSING' });
      // Updates that touch no encrypted column pass untouched.
      await db.updateTable('patients').set({ name: 'Johnny' }).where('name', '=', 'John').execute();
    });

    it('decrypts RETURNING rows and encrypts upsert updates', async () => {
      const inserted = await db
        .insertInto('patients')
        .values({ id: 'p3', clinic_id: 'c2', name: 'Ann', ssn: '123-45-6789', email: null })
        .returningAll()
        .executeTakeFirstOrThrow();
      expect(inserted.ssn).toBe('123-45-6789');
      await db
        .insertInto('patients')
        .values({ id: 'p3', clinic_id: 'c2', name: 'Ann', ssn: 'ignored', email: null })
        .onConflict((oc) => oc.column('id').doUpdateSet({ ssn: '999-99-9999' }))
        .execute();
      const back = await db
        .selectFrom('patients')
        .selectAll()
        .where('id', '=', 'p3')
        .executeTakeFirstOrThrow();
      expect(back.ssn).toBe('999-99-9999');
    });

    it('refuses joins that return encrypted columns, allows those that do not', async () => {
      await db.insertInto('visits').values({ id: 'v1', patient_id: 'p1', notes: 'ok' }).execute();
      await expect(
        db
          .selectFrom('visits')
          .innerJoin('patients', 'patients.id', 'visits.patient_id')
          .selectAll()
          .execute(),
      ).rejects.toMatchObject({ code: 'ERR_FIELD_CONTEXT_MISSING' });
      const rows = await db
        .selectFrom('visits')
        .innerJoin('patients', 'patients.id', 'visits.patient_id')
        .select(['visits.notes', 'patients.name'])
        .execute();
      expect(rows).toEqual([{ notes: 'ok', name: 'Jane' }]);
    });

    it('fails loudly on plaintext and on a ciphertext copied from another row', async () => {
      const p1 = await raw()
        .selectFrom('patients')
        .select('ssn')
        .where('id', '=', 'p1')
        .executeTakeFirstOrThrow();
      await raw().updateTable('patients').set({ ssn: p1.ssn }).where('id', '=', 'p2').execute();
      await expect(
        db.selectFrom('patients').selectAll().where('id', '=', 'p2').execute(),
      ).rejects.toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
      await raw()
        .insertInto('patients')
        .values({
          id: 'p9',
          clinic_id: 'c1',
          name: 'Legacy',
          ssn: '555-55-5555',
          email: null,
          email_bidx: null,
        })
        .execute();
      await expect(
        db.selectFrom('patients').selectAll().where('id', '=', 'p9').execute(),
      ).rejects.toMatchObject({ code: 'ERR_FIELD_NOT_ENCRYPTED' });
    });
  });
}

behaviour(
  'SQLite (better-sqlite3)',
  () => new SqliteDialect({ database: new Database(':memory:') }),
);

const hasPostgres = await requireService('postgres');
describe.runIf(hasPostgres)('PostgreSQL', () => {
  const schema = uniqueName('fields_kysely');
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` });
  beforeAll(async () => {
    await pool.query(`create schema ${schema}`);
  });
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  });
  behaviour('PostgreSQL (pg)', () => new PostgresDialect({ pool }));
});

describe('createFieldEncryptionPlugin', () => {
  it('refuses a KMS-mode cipher, since Kysely transforms queries synchronously', () => {
    const kmsCipher = createFieldCipher({ kms: createKeyringKms(keyring) });
    expect(() =>
      createFieldEncryptionPlugin({ cipher: kmsCipher as never, tables: [patients] }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});
