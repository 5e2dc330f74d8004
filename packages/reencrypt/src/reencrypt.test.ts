import { Keyring } from '@custos/core/crypto';
import { CustosError } from '@custos/core/errors';
import {
  createFieldCipher,
  createKeyringKms,
  type FieldCipher,
  type FieldKms,
} from '@custos/core/fields';
import {
  CamelCasePlugin,
  DummyDriver,
  Kysely,
  MysqlAdapter,
  MysqlIntrospector,
  MysqlQueryCompiler,
} from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { type TableDatabase, tableDatabase, testDatabaseKinds } from '../test/databases.js';
import type { ReencryptDatabase } from './database.js';
import { reencryptDatabase } from './dialect.js';
import { type ReencryptOptions, reencryptTable, reencryptWith } from './reencrypt.js';
import { encryptionStatus } from './status.js';

const DDL =
  'create table patients (id integer primary key, clinic text, ssn text, email text, note text)';
const target = { table: 'patients', idColumn: 'id', columns: ['ssn', 'email'] };

function keys() {
  const keyring = new Keyring();
  keyring.createKey('default');
  keyring.createKey('deterministic', { algorithm: 'aes-256-gcm-siv' });
  return { keyring, fc: createFieldCipher({ keyring }) };
}

/** Rows encrypted the way the application writes them. */
function rows(fc: FieldCipher, count: number, from = 1) {
  return Array.from({ length: count }, (_, i) => {
    const id = from + i;
    return {
      id,
      clinic: `c${id % 3}`,
      ssn: fc.encrypt(`ssn-${id}`, { table: 'patients', column: 'ssn', rowId: id }),
      email:
        id % 5 === 0
          ? null
          : fc.encrypt(`user${id}@example.com`, {
              table: 'patients',
              column: 'email',
              rowId: id,
              deterministic: true,
            }),
      note: `plain ${id}`,
    };
  });
}

async function readAll(db: TableDatabase, fc: FieldCipher) {
  const all = await db.query('select id, ssn, email from patients order by id');
  return all.map((row) => ({
    id: Number(row.id),
    ssn: fc.decrypt(row.ssn as string, {
      table: 'patients',
      column: 'ssn',
      rowId: row.id as number,
    }),
    email:
      row.email === null
        ? null
        : fc.decrypt(row.email as string, {
            table: 'patients',
            column: 'email',
            deterministic: true,
          }),
    ssnVersion: fc.describe(row.ssn as string).keyVersion,
  }));
}

for (const kind of await testDatabaseKinds()) {
  describe(`reencryptTable on ${kind}`, () => {
    let db: TableDatabase;
    const setup = async () => {
      db = await tableDatabase(kind);
      await db.query(DDL);
      return db;
    };
    afterEach(async () => {
      await db?.close();
    });
    const run = (options: Partial<ReencryptOptions> & Pick<ReencryptOptions, 'cipher'>) =>
      reencryptTable({ db: db.db, target, batchSize: 37, ...options });

    it('moves every value to the primary after a rotation, and verifies', async () => {
      const { keyring, fc } = keys();
      await setup();
      await db.insert('patients', rows(fc, 250));
      const before = await readAll(db, fc);
      keyring.rotate('default');
      keyring.rotate('deterministic');
      const progress: number[] = [];
      const report = await run({
        cipher: fc,
        onProgress: (p) => p.phase === 'reencrypt' && progress.push(p.rowsDone),
      });
      expect(report).toMatchObject({ complete: true, resumed: false, rowsTotal: 250 });
      expect(report.stats).toMatchObject({ rows: 250, reencrypted: 450, nulls: 50, failed: 0 });
      expect(report.stats.verified).toBe(450);
      expect(progress.at(-1)).toBe(250);
      const after = await readAll(db, fc);
      expect(after.map(({ ssnVersion: _, ...r }) => r)).toEqual(
        before.map(({ ssnVersion: _, ...r }) => r),
      );
      expect(after.every((r) => r.ssnVersion === 2)).toBe(true);
      // Deterministic values moved too, so lookups by the new ciphertext find the row.
      const lookup = fc.encrypt('user7@example.com', {
        table: 'patients',
        column: 'email',
        deterministic: true,
      });
      expect(await db.query('select id from patients where email = ?', [lookup])).toEqual([
        { id: 7 },
      ]);
      // A second run finds nothing to do.
      const again = await run({ cipher: fc });
      expect(again.stats).toMatchObject({ reencrypted: 0, current: 450, rows: 250 });
    });

    it('refuses an id column holding NULL, naming it, and leaves that row as it was', async () => {
      // Paging is by `id > last`: a row without an id can be neither paged past nor updated.
      const { keyring, fc } = keys();
      db = await tableDatabase(kind);
      await db.query('create table loose (id integer, ssn text, email text)');
      const encrypted = rows(fc, 5).map(({ id, ssn, email }) => ({ id, ssn, email }));
      const orphan = fc.encrypt('ssn-orphan', { table: 'loose', column: 'ssn' });
      await db.insert('loose', [...encrypted, { id: null, ssn: orphan, email: null }]);
      keyring.rotate('default');
      const error = await reencryptTable({
        db: db.db,
        target: { table: 'loose', idColumn: 'id', columns: ['ssn'] },
        cipher: fc,
        batchSize: 100,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CustosError);
      expect(error).toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
        message:
          'loose.id is NULL in some rows; reencrypt pages through a table by a unique, non-NULL id column',
      });
      expect(await db.query('select ssn from loose where id is null')).toEqual([{ ssn: orphan }]);
    });

    it('writes nothing in a dry run', async () => {
      const { keyring, fc } = keys();
      await setup();
      await db.insert('patients', rows(fc, 40));
      const before = await db.query('select * from patients order by id');
      keyring.rotate('default');
      const report = await run({ cipher: fc, dryRun: true });
      expect(report.stats).toMatchObject({ reencrypted: 40, current: 32 });
      expect(report.complete).toBe(false);
      expect(await db.query('select * from patients order by id')).toEqual(before);
    });

    it('resumes a stopped run from its checkpoint without redoing finished batches', async () => {
      const { keyring, fc } = keys();
      await setup();
      await db.insert('patients', rows(fc, 200));
      keyring.rotate('default');
      const controller = new AbortController();
      await expect(
        run({
          cipher: fc,
          signal: controller.signal,
          onProgress: (p) => p.rowsDone >= 74 && controller.abort(),
        }),
      ).rejects.toMatchObject({ name: 'AbortError' });
      const checkpoint = await db.query('select phase, last_id from custos_reencrypt_checkpoint');
      expect(checkpoint).toEqual([{ phase: 'reencrypt', last_id: '74' }]);
      const resumed = await run({ cipher: fc });
      expect(resumed.resumed).toBe(true);
      expect(resumed.stats.rows).toBe(200);
      expect(resumed.stats.reencrypted).toBe(200);
      expect(resumed.complete).toBe(true);
      expect((await readAll(db, fc)).every((r) => r.ssnVersion === 2)).toBe(true);
    });

    it('keeps application writes made during the run (compare-and-swap)', async () => {
      const { keyring, fc } = keys();
      await setup();
      await db.insert('patients', rows(fc, 100));
      keyring.rotate('default');
      const written = new Map<number, string>();
      // The "application" writes a row of each batch between the engine's read and its update.
      const database = reencryptDatabase(db.db);
      const racing: ReencryptDatabase = {
        ...database,
        async applyUpdates(t, updates, checkpoint) {
          const victim = Number(updates[0]?.id);
          if (!written.has(victim)) {
            const value = `app-${victim}`;
            written.set(victim, value);
            await db.query('update patients set ssn = ? where id = ?', [
              fc.encrypt(value, { table: 'patients', column: 'ssn', rowId: victim }),
              victim,
            ]);
          }
          return database.applyUpdates(t, updates, checkpoint);
        },
      };
      const report = await reencryptWith(racing, { target, batchSize: 37, cipher: fc });
      expect(report.stats.conflicts).toBeGreaterThan(0);
      expect(report.complete).toBe(true);
      const after = await readAll(db, fc);
      for (const row of after) {
        expect(row.ssn).toBe(written.get(row.id) ?? `ssn-${row.id}`);
      }
    });

    it('encrypts existing plaintext with --encrypt-plaintext, as the application reads it', async () => {
      const { fc } = keys();
      await setup();
      await db.insert(
        'patients',
        Array.from({ length: 30 }, (_, i) => ({
          id: i + 1,
          clinic: 'c',
          ssn: `ssn-${i + 1}`,
          email: i % 2 ? `u${i + 1}@example.com` : null,
        })),
      );
      const plain = await run({ cipher: fc });
      expect(plain.stats.plaintext).toBe(45);
      expect(plain.complete).toBe(true);
      const report = await run({
        cipher: fc,
        encryptPlaintext: true,
        deterministicColumns: ['email'],
      });
      expect(report.stats).toMatchObject({ encrypted: 45, verified: 45, verifyPlaintext: 0 });
      expect(report.complete).toBe(true);
      const after = await readAll(db, fc);
      expect(after[1]).toMatchObject({ id: 2, ssn: 'ssn-2', email: 'u2@example.com' });
    });

    it('binds tenants, and leaves values it cannot decrypt untouched and reported', async () => {
      const { keyring, fc } = keys();
      await setup();
      const tenantTarget = { ...target, columns: ['ssn'], tenantColumn: 'clinic' };
      const tenantRows = Array.from({ length: 20 }, (_, i) => ({
        id: i + 1,
        clinic: `c${i % 2}`,
        ssn: fc.encrypt(`s${i + 1}`, {
          table: 'patients',
          column: 'ssn',
          rowId: i + 1,
          tenantId: `c${i % 2}`,
        }),
      }));
      await db.insert('patients', tenantRows);
      // Row 3's value copied into row 4 (another row, another tenant): must not decrypt there.
      await db.query('update patients set ssn = ? where id = 4', [tenantRows[2]?.ssn]);
      keyring.rotate('default');
      const report = await reencryptTable({
        db: db.db,
        cipher: fc,
        target: tenantTarget,
        batchSize: 7,
      });
      expect(report.stats).toMatchObject({ reencrypted: 19, failed: 1, verifyFailed: 1 });
      expect(report.complete).toBe(false);
      const [row4] = await db.query('select ssn from patients where id = 4');
      expect(row4?.ssn).toBe(tenantRows[2]?.ssn);
      const status = await encryptionStatus({
        db: db.db,
        cipher: fc,
        target: tenantTarget,
      });
      expect(status.columns[0]).toMatchObject({ failing: 1, plaintext: 0 });
      expect(status.columns[0]?.versions.map((v) => [v.keyVersion, v.values, v.current])).toEqual([
        [2, 19, true],
        [1, 1, false],
      ]);
    });

    it('works with a KMS-mode cipher and with unbound rows', async () => {
      const { keyring } = keys();
      keyring.createKey('kek');
      const fc = createFieldCipher({ kms: createKeyringKms(keyring, { keyName: 'kek' }), keyring });
      await setup();
      const values = await Promise.all(
        Array.from({ length: 25 }, async (_, i) => ({
          id: i + 1,
          ssn: await fc.encrypt(`s${i + 1}`, { table: 'patients', column: 'ssn' }),
        })),
      );
      await db.insert('patients', values);
      keyring.rotate('kek');
      const report = await reencryptTable({
        db: db.db,
        cipher: createFieldCipher({ kms: createKeyringKms(keyring, { keyName: 'kek' }), keyring }),
        target: { ...target, columns: ['ssn'] },
        bindRowId: false,
      });
      expect(report.stats).toMatchObject({ reencrypted: 25, verified: 25 });
      expect(report.complete).toBe(true);
    });

    it('stops (ERR_KMS_REMOTE) when the KMS cannot answer, instead of counting values as failing', async () => {
      const { keyring } = keys();
      keyring.createKey('kek');
      const inner = createKeyringKms(keyring, { keyName: 'kek' });
      const fc = createFieldCipher({ kms: inner, keyring });
      await setup();
      // Rows 1-10 belong to tenant a, 11-30 to tenant b: the KMS fails on b's data key, in the
      // third batch, after two batches have committed.
      const tenantOf = (id: number) => (id <= 10 ? 'a' : 'b');
      const values = [];
      for (let id = 1; id <= 30; id++) {
        const where = { table: 'patients', column: 'ssn', rowId: id, tenantId: tenantOf(id) };
        values.push({ id, clinic: tenantOf(id), ssn: await fc.encrypt(`s${id}`, where) });
      }
      await db.insert('patients', values);
      keyring.rotate('kek');
      const outage = new CustosError('ERR_KMS_REMOTE', 'transit decrypt: connection refused');
      const flaky: FieldKms = {
        ...inner,
        async unwrapDataKey(wrapped, context) {
          if (context.tenantId === 'b') throw outage;
          return inner.unwrapDataKey(wrapped, context);
        },
      };
      const tenantTarget = { ...target, columns: ['ssn'], tenantColumn: 'clinic' };
      const options = { db: db.db, target: tenantTarget, batchSize: 5 };
      await expect(
        reencryptTable({ ...options, cipher: createFieldCipher({ kms: flaky, keyring }) }),
      ).rejects.toBe(outage);
      await expect(
        encryptionStatus({ ...options, cipher: createFieldCipher({ kms: flaky, keyring }) }),
      ).rejects.toBe(outage);
      // Nothing was counted as failing or written past the outage; a run with the KMS back
      // resumes and finishes.
      const report = await reencryptTable({
        ...options,
        cipher: createFieldCipher({ kms: inner, keyring }),
      });
      expect(report).toMatchObject({ resumed: true, complete: true });
      expect(report.stats).toMatchObject({ failed: 0, verified: 30, verifyFailed: 0 });
    });

    it('reports per key version, plaintext and NULL counts without keys (headers only)', async () => {
      const { keyring, fc } = keys();
      await setup();
      await db.insert('patients', rows(fc, 10));
      keyring.rotate('default');
      await db.insert('patients', rows(fc, 5, 11));
      await db.query("update patients set ssn = 'leaked' where id = 15");
      const status = await encryptionStatus({ db: db.db, target });
      expect(status.rows).toBe(15);
      expect(status.decryptChecked).toBe(false);
      const ssn = status.columns.find((c) => c.column === 'ssn');
      expect(ssn).toMatchObject({ plaintext: 1, nulls: 0, failing: 0 });
      expect(ssn?.versions.map((v) => [v.keyVersion, v.values])).toEqual([
        [1, 10],
        [2, 4],
      ]);
    });

    it('refuses unknown tables, columns and unsafe identifiers', async () => {
      const { fc } = keys();
      await setup();
      await expect(
        reencryptTable({ db: db.db, cipher: fc, target: { ...target, table: 'nope' } }),
      ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      await expect(
        reencryptTable({
          db: db.db,
          cipher: fc,
          target: { ...target, columns: ['x'] },
        }),
      ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: /no column x/ });
      await expect(
        reencryptTable({
          db: db.db,
          cipher: fc,
          target: { ...target, table: 'patients; drop table patients' },
        }),
      ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    });

    it("runs on the application's Kysely whatever plugins it carries (they rename result columns)", async () => {
      const { keyring, fc } = keys();
      await setup();
      await db.query('create table people (person_id integer primary key, tax_number text)');
      const context = (id: number) => ({ table: 'people', column: 'tax_number', rowId: id });
      await db.insert(
        'people',
        Array.from({ length: 12 }, (_, i) => ({
          person_id: i + 1,
          tax_number: fc.encrypt(`tax-${i + 1}`, context(i + 1)),
        })),
      );
      keyring.rotate('default');
      const people = { table: 'people', idColumn: 'person_id', columns: ['tax_number'] };
      const camel = db.db.withPlugin(new CamelCasePlugin());
      const report = await reencryptTable({ db: camel, cipher: fc, target: people, batchSize: 5 });
      expect(report).toMatchObject({ complete: true, resumed: false, rowsTotal: 12 });
      expect(report.stats).toMatchObject({ reencrypted: 12, verified: 12 });
      const again = await reencryptTable({ db: camel, cipher: fc, target: people });
      expect(again.stats).toMatchObject({ reencrypted: 0, current: 12 });
      const status = await encryptionStatus({ db: camel, cipher: fc, target: people });
      expect(status.columns[0]?.versions.map((v) => [v.keyVersion, v.values])).toEqual([[2, 12]]);
    });
  });
}

describe('reencryptTable on other databases', () => {
  it('refuses a Kysely instance that writes SQL for neither SQLite nor PostgreSQL', async () => {
    const mysql = new Kysely<unknown>({
      dialect: {
        createAdapter: () => new MysqlAdapter(),
        createDriver: () => new DummyDriver(),
        createIntrospector: (db) => new MysqlIntrospector(db),
        createQueryCompiler: () => new MysqlQueryCompiler(),
      },
    });
    const { fc } = keys();
    await expect(reencryptTable({ db: mysql, cipher: fc, target })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: /SQLite and PostgreSQL/,
    });
    await expect(encryptionStatus({ db: mysql, target })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });
});
