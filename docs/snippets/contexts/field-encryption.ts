/**
 * docs/field-encryption.md: the Quick start's `keyring.json` in the working directory, the
 * cipher it gives (`fc`), a SQLite `patients` table for the row helpers and the backfill (three
 * rows under an old blind-index version), PostgreSQL tables `users` and `patients` in the run's
 * schema (`pool`, `DATABASE_URL`), and a custos dev server with transit key `phi`.
 */
import { randomUUID } from 'node:crypto';
import {
  loadKeyring,
  readKeyringFile,
  serializeKeyring,
  writeKeyringFile,
} from '@custos/core/crypto';
import { isCustosError } from '@custos/core/errors';
import { createFieldCipher, createRowCodec } from '@custos/core/fields';
import { LocalKms } from '@custos/core/kms';
import Database from 'better-sqlite3';
import { SqliteDialect } from 'kysely';
import pg from 'pg';
import {
  check,
  postgresUrlForRun,
  type SnippetExports,
  snippetMentions,
  startDevServer,
  workDir,
  writeQuickStartKeyring,
} from '../support.js';

// Rotated once, so that the retirement step has an old version to retire.
const quickStart = await writeQuickStartKeyring();
quickStart.rotate('default');
await writeKeyringFile('keyring.json', quickStart);
export const keyring = await readKeyringFile('keyring.json');
export const fc = createFieldCipher({ keyring });

// The application's own values.
export const patient = { id: randomUUID() };
export const other = { id: randomUUID() };
export const clinic = { id: 'clinic-1' };
export const id = randomUUID();
export const clinicId = 'clinic-1';
export const tenantId = clinicId;
export const rowId = id;
export const ssn = '078-05-1120';
export const dob = new Date('1990-04-01');
export const birthDate = dob;
export const email = 'Jane@Example.com';
export const address = 'jane@example.com';
export const input = ' JANE@example.com';
export const note = 'Allergic to penicillin';

// SQLite: the row helpers, the Kysely plugin and the backfill.
export const db = new Database(':memory:');
db.exec(
  `create table patients (id, clinic_id text, ssn text, dob text, email text, email_bidx text)`,
);
export const dialect = new SqliteDialect({ database: db });
/** The Kysely schema of the `patients` table. */
export interface DB {
  patients: {
    id: string | number;
    clinic_id: string;
    ssn: string | null;
    dob: string | null;
    email: string | null;
    email_bidx: string | null;
  };
}
/** The row codec of the "Plain rows" section. */
export const patients = createRowCodec(fc, {
  table: 'patients',
  idColumn: 'id',
  tenantColumn: 'clinic_id',
  columns: {
    ssn: true,
    dob: { padding: { blockBytes: 16 } },
    email: { deterministic: true, blindIndex: { indexColumn: 'email_bidx', normalize: true } },
  },
});
// Rows whose blind index is of an older version, for the backfill to rewrite.
for (const n of [1, 2, 3]) {
  const row = patients.encryptRow({
    id: n,
    clinic_id: clinicId,
    ssn,
    dob,
    email: `p${n}@example.com`,
  });
  db.prepare(
    'insert into patients (id, clinic_id, ssn, dob, email, email_bidx) values (?, ?, ?, ?, ?, ?)',
  ).run(row.id, row.clinic_id, row.ssn, row.dob, row.email, 'v0.stale');
}

// PostgreSQL, for the snippets that use it: the blind-index example (`pool`) and Drizzle
// (`DATABASE_URL`).
const usesPostgres = snippetMentions('pool', 'DATABASE_URL');
if (usesPostgres) process.env.DATABASE_URL = await postgresUrlForRun();
export const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
if (usesPostgres) {
  await pool.query('create table users (id text primary key, email text, email_bidx text)');
  await pool.query(
    'create table patients (id uuid primary key, ssn text, birth_date text, email text)',
  );
}

// The custos server with transit key `phi` (KMS mode), and `kms.json` for the local KMS.
const server = snippetMentions('token', 'transitDataKeys') ? await startDevServer() : undefined;
export const token = 'root';
if (server) {
  process.env.CUSTOS_ADDR = server.url;
  const created = await fetch(`${server.url}/v1/transit/keys/phi`, {
    method: 'POST',
    headers: { 'x-vault-token': token },
  });
  if (!created.ok) throw new Error(`creating transit key phi: ${created.status}`);
}
const local = await LocalKms.open(`${workDir}/kms.json`);
local.createKey('phi');
await local.save();

// A value under version 1 of `default`, for the retirement step to retire.
const underVersionOne = createFieldCipher({ keyring: await readKeyringFile('keyring.json') });
const retiredWhere = { table: 'patients', column: 'ssn', rowId: 'old-row' };
const underOld = (() => {
  const old = loadKeyring(serializeKeyring(keyring));
  old.setPrimary('default', 1);
  return createFieldCipher({ keyring: old }).encrypt(ssn, retiredWhere);
})();

export async function finish(_snippet: SnippetExports): Promise<void> {
  if (snippetMentions('setMinDecryptionVersion')) {
    // The retirement step took effect in the file: version 1 no longer decrypts.
    const retired = createFieldCipher({ keyring: await readKeyringFile('keyring.json') });
    check(underVersionOne.decrypt(underOld, retiredWhere) === ssn, 'v1 decrypted before');
    let refused = '';
    try {
      retired.decrypt(underOld, retiredWhere);
    } catch (error) {
      refused = isCustosError(error) ? error.code : String(error);
    }
    check(refused === 'ERR_KEY_DISABLED', `a retired version is refused (${refused})`);
  }
  db.close();
  await pool.end();
  await server?.close();
}
