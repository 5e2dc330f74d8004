import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Keyring, writeKeyringFile } from '@custos/core/crypto';
import { createFieldCipher } from '@custos/core/fields';
import { POSTGRES_URL, requireService, uniqueName } from '@custos/test-support/services';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../../bin/custos.js', import.meta.url));
const exec = promisify(execFile);
const CANARY = 'CANARY-SSN-555-12-3456';

async function custos(...args: string[]) {
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('custos reencrypt and custos encryption status (SQLite)', () => {
  let dir: string;
  let file: string;
  let dbFile: string;
  let keyring: Keyring;
  let db: Database.Database;
  const flags = () => ['--db', dbFile, '--table', 'patients', '--columns', 'ssn,email'];
  const ssn = (id: number) => ({ table: 'patients', column: 'ssn', rowId: id });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-reencrypt-cli-'));
    file = join(dir, 'keyring.json');
    dbFile = join(dir, 'app.db');
    keyring = new Keyring();
    keyring.createKey('default');
    keyring.createKey('deterministic', { algorithm: 'aes-256-gcm-siv' });
    await writeKeyringFile(file, keyring);
    const fc = createFieldCipher({ keyring });
    db = new Database(dbFile);
    db.exec('create table patients (id integer primary key, ssn text, email text)');
    const insert = db.prepare('insert into patients values (?, ?, ?)');
    for (let id = 1; id <= 300; id++) {
      insert.run(id, fc.encrypt(id === 7 ? CANARY : `ssn-${id}`, ssn(id)), `u${id}@example.com`);
    }
    keyring.rotate('default');
    await writeKeyringFile(file, keyring);
  });
  afterAll(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports versions and plaintext, changes nothing in a dry run, then re-encrypts and verifies', async () => {
    const status = await custos('encryption', 'status', ...flags(), '--keyring', file);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/default v1 \(old\): 300/);
    expect(status.stdout).toMatch(/plaintext: 300/);
    const required = await custos('encryption', 'status', ...flags(), '--require-current');
    expect(required.code).toBe(1);

    const before = db.prepare('select * from patients order by id').all();
    const dry = await custos('reencrypt', ...flags(), '--keyring', file, '--dry-run');
    expect(dry).toMatchObject({ code: 0, stdout: expect.stringMatching(/^dry run: 300 rows/) });
    expect(db.prepare('select * from patients order by id').all()).toEqual(before);

    const run = await custos(
      'reencrypt',
      ...flags(),
      '--keyring',
      file,
      '--encrypt-plaintext',
      '--deterministic',
      'email',
      '--batch',
      '64',
      '--json',
    );
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ complete: true, rowsTotal: 300 });
    expect(report.stats).toMatchObject({ reencrypted: 300, encrypted: 300, verified: 600 });
    // Progress goes to standard error: a plain line when it is not a terminal.
    expect(run.stderr).toMatch(/reencrypt patients: 300\/300 rows \(100%\), [\d,]+ rows\/s/);

    const fc = createFieldCipher({ keyring });
    const row = db.prepare('select * from patients where id = 9').get() as Record<string, string>;
    expect(fc.decrypt(row.ssn as string, ssn(9))).toBe('ssn-9');
    expect(
      fc.decrypt(row.email as string, { table: 'patients', column: 'email', deterministic: true }),
    ).toBe('u9@example.com');
    const after = await custos(
      'encryption',
      'status',
      ...flags(),
      '--keyring',
      file,
      '--require-current',
    );
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/default v2 \(current\): 300/);
    expect(after.stdout).toMatch(/deterministic v1 deterministic \(current\): 300/);
    for (const output of [status, dry, run, after]) {
      expect(output.stdout + output.stderr).not.toContain(CANARY);
    }
  });

  it('finds a value moved to another row: status exits 1, reencrypt leaves it and exits 1', async () => {
    const moved = db.prepare('select ssn from patients where id = 7').get() as { ssn: string };
    db.prepare('update patients set ssn = ? where id = 8').run(moved.ssn);
    const status = await custos('encryption', 'status', ...flags(), '--keyring', file);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/failing to decrypt: 1/);
    keyring.rotate('default');
    await writeKeyringFile(file, keyring);
    const run = await custos('reencrypt', ...flags(), '--keyring', file);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/1 failing/);
    expect(run.stderr).toMatch(/ERR_REENCRYPT_INCOMPLETE/);
    expect(run.stdout + run.stderr + status.stdout + status.stderr).not.toContain(CANARY);
    expect(db.prepare('select ssn from patients where id = 8').get()).toEqual(moved);
  });

  it('exits 2 with a clear message on wrong usage, a missing database or an unsafe keyring', async () => {
    expect((await custos('reencrypt', ...flags())).code).toBe(2);
    const badBatch = await custos('reencrypt', ...flags(), '--keyring', file, '--batch', 'many');
    expect(badBatch).toMatchObject({ code: 2, stderr: expect.stringMatching(/--batch/) });
    const missing = await custos(
      'reencrypt',
      '--db',
      join(dir, 'nope.db'),
      '--table',
      'patients',
      '--columns',
      'ssn',
      '--keyring',
      file,
    );
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringMatching(/cannot open SQLite/) });
    const badTable = await custos(
      'reencrypt',
      '--db',
      dbFile,
      '--table',
      'x;drop',
      '--columns',
      'ssn',
      '--keyring',
      file,
    );
    expect(badTable).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/plain SQL identifier/),
    });
    await chmod(file, 0o644);
    const insecure = await custos('reencrypt', ...flags(), '--keyring', file);
    expect(insecure).toMatchObject({ code: 2, stderr: expect.stringMatching(/ERR_INSECURE_FILE/) });
    await chmod(file, 0o600);
  });
});

const hasPostgres = await requireService('postgres');
describe.runIf(hasPostgres)('custos reencrypt on PostgreSQL', () => {
  const schema = uniqueName('reencrypt_cli');
  let pool: pg.Pool;
  let dir: string;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` });
    await pool.query(`create schema ${schema}`);
    dir = await mkdtemp(join(tmpdir(), 'custos-reencrypt-cli-'));
  });
  afterAll(async () => {
    await pool.query(`drop schema ${schema} cascade`);
    await pool.end();
    await rm(dir, { recursive: true, force: true });
  });

  it('re-encrypts a table named by URL and schema, and reports it', async () => {
    const keyring = new Keyring();
    keyring.createKey('default');
    const file = join(dir, 'keyring.json');
    const fc = createFieldCipher({ keyring });
    await pool.query('create table notes (id uuid primary key, tenant text, body text)');
    const ids = Array.from(
      { length: 50 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    );
    for (const id of ids) {
      await pool.query('insert into notes values ($1, $2, $3)', [
        id,
        't1',
        fc.encrypt(`note ${id}`, { table: 'notes', column: 'body', rowId: id, tenantId: 't1' }),
      ]);
    }
    keyring.rotate('default');
    await writeKeyringFile(file, keyring);
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('schema', schema);
    const db = ['--db', url.toString(), '--table', 'notes', '--columns', 'body'];
    const run = await custos('reencrypt', ...db, '--tenant-column', 'tenant', '--keyring', file);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/50 values re-encrypted/);
    const status = await custos(
      'encryption',
      'status',
      ...db,
      '--tenant-column',
      'tenant',
      '--keyring',
      file,
      '--json',
    );
    const parsed = JSON.parse(status.stdout);
    expect(parsed.columns[0].versions).toEqual([
      expect.objectContaining({ keyName: 'default', keyVersion: 2, current: true, values: 50 }),
    ]);
    expect(parsed.columns[0].failing).toBe(0);
    const { rows } = await pool.query('select id, body from notes order by id limit 1');
    expect(
      fc.decrypt(rows[0].body, {
        table: 'notes',
        column: 'body',
        rowId: rows[0].id,
        tenantId: 't1',
      }),
    ).toBe(`note ${rows[0].id}`);
  });
});
