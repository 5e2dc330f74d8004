/**
 * Row codecs through the real drivers: rows encrypted with `encryptRow` are inserted with
 * better-sqlite3 and `pg`, selected back (by blind index and by deterministic ciphertext) and
 * decrypted with `decryptRow`, with the types each driver returns (SQLite integers, bigints in
 * safe-integer mode, PostgreSQL int8 as text).
 */

import { POSTGRES_URL, requireService, uniqueName } from '@custos/test-support/services';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring } from '../crypto/index.js';
import { createFieldCipher } from './field-cipher.js';
import { createKeyringKms } from './field-kms.js';
import { type AsyncRowCodec, createRowCodec, type RowCodec, type TableEncryption } from './rows.js';
import type { AnyFieldCipher } from './types.js';

const COLUMNS = [
  'id',
  'clinic_id',
  'name',
  'ssn',
  'dob',
  'email',
  'email_bidx',
  'visits',
  'photo',
  'balance',
];
const DDL = (idType: string) =>
  `create table patients (id ${idType} primary key, clinic_id text not null, name text, ssn text,
   dob text, email text, email_bidx text, visits text, photo text, balance text)`;

const patients: TableEncryption = {
  table: 'patients',
  idColumn: 'id',
  tenantColumn: 'clinic_id',
  columns: {
    ssn: true,
    dob: { padding: { blockBytes: 16 } },
    email: { deterministic: true, blindIndex: { indexColumn: 'email_bidx', normalize: true } },
    visits: true,
    photo: true,
    balance: true,
  },
};

/** What the application holds: every value type the codec must bring back unchanged. */
function patient(id: number | bigint, clinic: string) {
  return {
    id,
    clinic_id: clinic,
    name: `Patient ${id}`,
    ssn: `078-05-${String(id).slice(-4).padStart(4, '0')}`,
    dob: new Date(Date.UTC(1990, 3, Number(BigInt(id) % 28n) + 1)),
    email: `Patient${id}@Example.com`,
    visits: [{ on: '2024-01-02', code: 'J45' }, 'follow-up', 3],
    photo: Buffer.from([0, 255, Number(BigInt(id) % 256n), 7]),
    balance: 2n ** 63n + BigInt(id),
  };
}

function keyring() {
  const k = new Keyring();
  k.createKey('default');
  k.createKey('deterministic', { algorithm: 'aes-256-gcm-siv' });
  k.createKey('kek');
  k.createKey('blind-index');
  return k;
}

/** A driver behind the same three operations. */
interface Driver {
  insert(row: Record<string, unknown>): Promise<void>;
  select(where: 'id' | 'email' | 'email_bidx', value: unknown): Promise<Record<string, unknown>>;
  copySsn(from: unknown, to: unknown): Promise<void>;
}

type Codec = RowCodec | AsyncRowCodec;

/** The scenario, for both cipher modes on each driver. */
function scenario(driverFor: () => Driver, ids: readonly [number | bigint, number | bigint]) {
  const modes: [string, () => AnyFieldCipher][] = [
    ['keyring mode', () => createFieldCipher({ keyring: keyring() })],
    [
      'KMS mode',
      () => {
        const k = keyring();
        return createFieldCipher({ kms: createKeyringKms(k, { keyName: 'kek' }), keyring: k });
      },
    ],
  ];
  for (const [mode, cipherFor] of modes) {
    it(`${mode}: inserts encrypted rows, finds them by blind index and deterministic value, decrypts them`, async () => {
      const driver = driverFor();
      const cipher = cipherFor();
      const codec: Codec = createRowCodec(cipher as never, patients);
      const offset = mode === 'KMS mode' ? 1000 : 0;
      const [a, b] = ids.map((id) => (typeof id === 'bigint' ? id + BigInt(offset) : id + offset));
      const rows = [patient(a as number | bigint, 'c-1'), patient(b as number | bigint, 'c-2')];
      for (const row of rows) {
        const stored = await codec.encryptRow(row);
        expect(String(stored.ssn)).toMatch(/^custos:/);
        expect(
          JSON.stringify(stored, (_, v) => (typeof v === 'bigint' ? String(v) : v)),
        ).not.toContain('078-05');
        await driver.insert(stored);
      }
      const [first, second] = rows as [ReturnType<typeof patient>, ReturnType<typeof patient>];

      const byIndex = await driver.select(
        'email_bidx',
        await codec.blindIndex('email', `  ${first.email.toUpperCase()} `, 'c-1'),
      );
      const decrypted = await codec.decryptRow<ReturnType<typeof patient>>(byIndex);
      expect({ ...decrypted, id: BigInt(decrypted.id) }).toEqual({
        ...first,
        id: BigInt(first.id),
        email_bidx: byIndex.email_bidx,
      });
      expect(decrypted.dob).toBeInstanceOf(Date);
      expect(Buffer.isBuffer(decrypted.photo)).toBe(true);
      expect(typeof decrypted.balance).toBe('bigint');

      const emailContext = codec.contextFor('email', { clinic_id: 'c-2' });
      const byValue = await driver.select(
        'email',
        await cipher.encrypt(second.email, emailContext),
      );
      expect((await codec.decryptRow<ReturnType<typeof patient>>(byValue)).ssn).toBe(second.ssn);

      // A ciphertext copied between rows in SQL is refused, not read as the other patient's.
      await driver.copySsn(first.id, second.id);
      const moved = await driver.select('id', second.id);
      await expect(Promise.resolve().then(() => codec.decryptRow(moved))).rejects.toMatchObject({
        code: 'ERR_DECRYPTION_FAILED',
      });
    });
  }
}

describe('createRowCodec through better-sqlite3', () => {
  const db = new Database(':memory:');
  db.exec(DDL('integer'));
  afterAll(() => db.close());
  const driver = (): Driver => ({
    async insert(row) {
      db.prepare(
        `insert into patients (${COLUMNS.join(', ')}) values (${COLUMNS.map((c) => `@${c}`).join(', ')})`,
      ).run(row);
    },
    async select(where, value) {
      // Safe-integer mode: ids come back as bigints, and must bind like the numbers written.
      return db
        .prepare(`select * from patients where ${where} = ?`)
        .safeIntegers(true)
        .get(value) as Record<string, unknown>;
    },
    async copySsn(from, to) {
      db.prepare(
        'update patients set ssn = (select ssn from patients where id = ?) where id = ?',
      ).run(from, to);
    },
  });
  scenario(driver, [1, 2]);
});

const hasPostgres = await requireService('postgres');
describe.runIf(hasPostgres)('createRowCodec through pg', () => {
  const schema = uniqueName('row_codec');
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` });
    await pool.query(`create schema ${schema}`);
    await pool.query(DDL('bigint'));
  });
  afterAll(async () => {
    await pool.query(`drop schema ${schema} cascade`);
    await pool.end();
  });
  const driver = (): Driver => ({
    async insert(row) {
      await pool.query(
        `insert into patients (${COLUMNS.join(', ')}) values (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`,
        COLUMNS.map((c) => (typeof row[c] === 'bigint' ? String(row[c]) : row[c])),
      );
    },
    async select(where, value) {
      const param = typeof value === 'bigint' ? String(value) : value;
      const { rows } = await pool.query(`select * from patients where ${where} = $1`, [param]);
      // pg returns int8 as a string: '9007199254740993' must bind like 9007199254740993n.
      expect(typeof rows[0]?.id).toBe('string');
      return rows[0];
    },
    async copySsn(from, to) {
      await pool.query(
        'update patients set ssn = (select ssn from patients where id = $1) where id = $2',
        [String(from), String(to)],
      );
    },
  });
  scenario(driver, [2n ** 53n + 1n, 2n ** 53n + 2n]);
});
