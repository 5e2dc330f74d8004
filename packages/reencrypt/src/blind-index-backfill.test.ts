/**
 * `reencryptTable({ blindIndexes })`: the backfill after a blind-index key rotation (or from
 * legacy indexes derived from the encryption key), on SQLite and PostgreSQL. Lookups through the
 * candidates find every row while it is half done; it resumes from its checkpoint; an
 * encryption-key rotation and its re-encryption leave every index as it is.
 */
import { hmacSha256, Keyring } from '@custos/core/crypto';
import {
  blindIndexVersion,
  createFieldCipher,
  createRowCodec,
  type FieldCipher,
  type RowCodec,
} from '@custos/core/fields';
import { afterEach, describe, expect, it } from 'vitest';
import { type TableDatabase, tableDatabase, testDatabaseKinds } from '../test/databases.js';
import { type ReencryptOptions, reencryptTable } from './reencrypt.js';
import { encryptionStatus } from './status.js';

const DDL =
  'create table people (id integer primary key, tenant text, email text, email_bidx text)';
const table = {
  table: 'people',
  idColumn: 'id',
  tenantColumn: 'tenant',
  columns: { email: { blindIndex: { indexColumn: 'email_bidx', normalize: true } } },
} as const;
const target = { table: 'people', idColumn: 'id', columns: ['email'], tenantColumn: 'tenant' };
const blindIndexes = { email: { indexColumn: 'email_bidx', normalize: true } };
const ROWS = 120;
const emailOf = (id: number) => `User${id}@Example.com`;
const tenantOf = (id: number) => `t${id % 3}`;

function keys() {
  const keyring = new Keyring();
  keyring.createKey('default');
  keyring.createKey('blind-index');
  return keyring;
}

/** What custos wrote before blind indexes had a key of their own: derived from `default`. */
function legacyIndex(keyring: Keyring, id: number) {
  const purpose = `blind-index/hmac/${JSON.stringify(['people', 'email', tenantOf(id)])}`;
  const { key, keyVersion } = keyring.deriveKey('default', purpose);
  const message = Buffer.concat([Buffer.of(1), Buffer.from(emailOf(id).toLowerCase())]);
  return `v${keyVersion}.${hmacSha256(key, message).subarray(0, 8).toString('base64url')}`;
}

for (const kind of await testDatabaseKinds()) {
  describe(`blind-index backfill on ${kind}`, () => {
    let db: TableDatabase;
    afterEach(async () => {
      await db?.close();
    });
    const run = (options: Partial<ReencryptOptions> & Pick<ReencryptOptions, 'cipher'>) =>
      reencryptTable({ db: db.db, target, blindIndexes, batchSize: 25, ...options });

    async function insert(codec: RowCodec, from: number, to: number) {
      const rows = [];
      for (let id = from; id <= to; id++) {
        rows.push(codec.encryptRow({ id, tenant: tenantOf(id), email: emailOf(id) }));
      }
      await db.insert('people', rows);
    }

    /** Every row found by its email through the codec's candidates, and nothing else. */
    async function expectEveryRowFound(codec: RowCodec) {
      for (let id = 1; id <= ROWS; id++) {
        const candidates = codec.blindIndexCandidates('email', ` ${emailOf(id)}`, tenantOf(id));
        const marks = candidates.map(() => '?').join(', ');
        const found = await db.query(
          `select id from people where tenant = ? and email_bidx in (${marks})`,
          [tenantOf(id), ...candidates],
        );
        expect(
          found.map((r) => Number(r.id)),
          `row ${id}`,
        ).toEqual([id]);
      }
    }

    async function indexVersions() {
      const rows = await db.query('select email_bidx from people');
      return rows.map((r) => blindIndexVersion(r.email_bidx as string));
    }

    it('after a blind-index rotation: lookups find every row while half done, the run resumes and finishes', async () => {
      db = await tableDatabase(kind);
      await db.query(DDL);
      const keyring = keys();
      const fc: FieldCipher = createFieldCipher({ keyring });
      const codec = createRowCodec(fc, table);
      await insert(codec, 1, ROWS - 10);
      keyring.rotate('blind-index');
      await insert(codec, ROWS - 9, ROWS); // the application writes under the new version

      const controller = new AbortController();
      let batches = 0;
      await expect(
        run({
          cipher: fc,
          signal: controller.signal,
          onProgress: (p) => {
            if (p.phase === 'reencrypt' && ++batches === 3) controller.abort();
          },
        }),
      ).rejects.toMatchObject({ name: 'AbortError' });
      const halfDone = await indexVersions();
      expect(halfDone).toContain(1);
      expect(halfDone).toContain(2);
      const status = await encryptionStatus({
        db: db.db,
        target,
        cipher: fc,
        indexColumns: ['email_bidx'],
      });
      const counted = status.indexes?.[0];
      expect(counted?.versions.map((v) => [v.kind, v.keyVersion, v.current, v.values])).toEqual(
        expect.arrayContaining([
          ['blind-index', 2, true, halfDone.filter((v) => v === 2).length],
          ['blind-index', 1, false, halfDone.filter((v) => v === 1).length],
        ]),
      );
      expect(counted).toMatchObject({ nulls: 0, unrecognised: 0 });
      await expectEveryRowFound(codec);
      // Tenant-bound: a lookup without the tenant is refused, never made with a shared key.
      expect(() => codec.blindIndexCandidates('email', emailOf(1))).toThrow(
        expect.objectContaining({ code: 'ERR_FIELD_CONTEXT_MISSING' }),
      );

      const report = await run({ cipher: fc });
      expect(report).toMatchObject({ resumed: true, complete: true, rowsTotal: ROWS });
      expect(report.stats.failed).toBe(0);
      expect(report.stats.verified).toBe(ROWS);
      expect(new Set(await indexVersions())).toEqual(new Set([2]));
      // Retired: only the new version is a candidate, and it finds every row.
      keyring.setState('blind-index', 1, 'disabled');
      expect(codec.blindIndexCandidates('email', emailOf(1), tenantOf(1))).toHaveLength(1);
      await expectEveryRowFound(codec);
      // Nothing left: a second run rewrites nothing.
      const again = await run({ cipher: fc });
      expect(again.stats).toMatchObject({ reencrypted: 0, current: ROWS, verified: ROWS });
    });

    it('an encryption-key rotation and its re-encryption leave every index as it is', async () => {
      db = await tableDatabase(kind);
      await db.query(DDL);
      const keyring = keys();
      const fc = createFieldCipher({ keyring });
      const codec = createRowCodec(fc, table);
      await insert(codec, 1, ROWS);
      const before = await db.query('select id, email_bidx from people order by id');
      keyring.rotate('default');
      const report = await reencryptTable({ db: db.db, target, cipher: fc, batchSize: 25 });
      expect(report).toMatchObject({ complete: true });
      expect(report.stats.reencrypted).toBe(ROWS);
      expect(await db.query('select id, email_bidx from people order by id')).toEqual(before);
      await expectEveryRowFound(codec);
      // And the blind-index run has nothing to do.
      expect((await run({ cipher: fc })).stats).toMatchObject({ reencrypted: 0, current: ROWS });
    });

    it('from legacy indexes: found through legacyBlindIndexKeyName, then rewritten under the blind-index key', async () => {
      db = await tableDatabase(kind);
      await db.query(DDL);
      const keyring = keys();
      const legacy = createFieldCipher({ keyring, legacyBlindIndexKeyName: 'default' });
      const rows = [];
      for (let id = 1; id <= ROWS; id++) {
        const { email } = createRowCodec(legacy, table).encryptRow({
          id,
          tenant: tenantOf(id),
          email: emailOf(id),
        });
        rows.push({ id, tenant: tenantOf(id), email, email_bidx: legacyIndex(keyring, id) });
      }
      await db.insert('people', rows);
      keyring.rotate('default'); // legacy indexes were under v1 of the encryption key
      await expectEveryRowFound(createRowCodec(legacy, table));
      const status = await encryptionStatus({ db: db.db, target, indexColumns: ['email_bidx'] });
      expect(status.indexes?.[0]?.versions).toEqual([
        { kind: 'legacy', keyVersion: 1, current: undefined, values: ROWS },
      ]);

      const report = await run({ cipher: legacy });
      expect(report).toMatchObject({ complete: true });
      expect(report.stats.reencrypted).toBe(ROWS);
      expect(new Set(await indexVersions())).toEqual(new Set([1]));
      // Done: the application drops legacyBlindIndexKeyName, and every row is still found.
      await expectEveryRowFound(createRowCodec(createFieldCipher({ keyring }), table));
    });

    it('leaves a value it cannot decrypt (or without its tenant) alone, and reports the run incomplete', async () => {
      db = await tableDatabase(kind);
      await db.query(DDL);
      const keyring = keys();
      const fc = createFieldCipher({ keyring });
      await insert(createRowCodec(fc, table), 1, 30);
      keyring.rotate('blind-index');
      await db.query('update people set tenant = ? where id = 3', ['t9']); // moved: no longer opens
      await db.query('update people set tenant = null where id = 4');
      const report = await run({ cipher: fc });
      expect(report.complete).toBe(false);
      expect(report.stats).toMatchObject({ reencrypted: 28, failed: 2, verifyFailed: 2 });
      const left = await db.query('select id, email_bidx from people where id in (3, 4)');
      expect(left.map((r) => blindIndexVersion(r.email_bidx as string))).toEqual([1, 1]);
    });
  });
}
