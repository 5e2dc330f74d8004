/**
 * `custos reencrypt` and `custos encryption status` in KMS mode, end to end: a real
 * `custos server --dev` started here wraps the application's per-tenant data keys (transit), and
 * the commands reach it through CUSTOS_ADDR/CUSTOS_TOKEN (or VAULT_*); then the same with a local
 * KMS file. Tables on SQLite and PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring, writeKeyringFile } from '@custos/core/crypto';
import { type AsyncFieldCipher, createFieldCipher } from '@custos/core/fields';
import { createTransitClient, LocalKms, localKmsDataKeys, transitDataKeys } from '@custos/core/kms';
import { POSTGRES_URL, requireService, uniqueName } from '@custos/test-support/services';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos, type DevServer, startDevServer } from '../../../test/cli.js';

const CANARY = 'CANARY-SSN-555-12-3456';
const hasPostgres = await requireService('postgres');

describe('custos reencrypt and encryption status in KMS mode', () => {
  const token = `root-${randomBytes(8).toString('hex')}`;
  let server: DevServer;
  let dir: string;
  let keyringFile: string;
  let keyring: Keyring;
  let env: Record<string, string>;

  /** An operator's call to the server, as root. */
  const api = async (method: string, path: string, body: unknown = {}) => {
    const response = await fetch(`${server.url}/v1/${path}`, {
      method,
      headers: { 'x-vault-token': token, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status, path).toBeLessThan(300);
    return response.status === 204 ? null : await response.json();
  };
  /** The application's own transit calls (creating and rotating keys). */
  const transit = (path: string) => api('POST', `transit/${path}`);
  /** The application's cipher: data keys wrapped by `key` on the server, deterministic columns by the keyring. */
  const appCipher = (key: string): AsyncFieldCipher =>
    createFieldCipher({
      kms: transitDataKeys(createTransitClient({ address: server.url, auth: { token } }), key),
      keyring,
    });

  beforeAll(async () => {
    server = await startDevServer(token);
    env = { CUSTOS_ADDR: server.url, CUSTOS_TOKEN: token };
    dir = await mkdtemp(join(tmpdir(), 'custos-reencrypt-kms-'));
    keyringFile = join(dir, 'keyring.json');
    keyring = new Keyring();
    keyring.createKey('default');
    keyring.createKey('deterministic', { algorithm: 'aes-256-gcm-siv' });
    await writeKeyringFile(keyringFile, keyring);
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  describe('on a remote transit key, SQLite table', () => {
    let db: Database.Database;
    let dbFile: string;
    const ssn = (id: number) => ({
      table: 'patients',
      column: 'ssn',
      rowId: id,
      tenantId: `c${id % 3}`,
    });
    const email = (id: number) => ({
      table: 'patients',
      column: 'email',
      tenantId: `c${id % 3}`,
      deterministic: true,
    });
    const flags = () => [
      '--db',
      dbFile,
      '--table',
      'patients',
      '--columns',
      'ssn,email',
      '--tenant-column',
      'clinic',
      '--transit-key',
      'phi',
      '--keyring',
      keyringFile,
    ];
    const everything = () => db.prepare('select * from patients order by id').all();

    beforeAll(async () => {
      dbFile = join(dir, 'app.db');
      db = new Database(dbFile);
      db.exec('create table patients (id integer primary key, clinic text, ssn text, email text)');
      await transit('keys/phi');
      const fc = appCipher('phi');
      const insert = db.prepare('insert into patients values (?, ?, ?, ?)');
      for (let id = 1; id <= 150; id++) {
        const value = id === 7 ? CANARY : `ssn-${id}`;
        insert.run(
          id,
          `c${id % 3}`,
          await fc.encrypt(value, ssn(id)),
          await fc.encrypt(`u${id}@example.com`, email(id)),
        );
      }
      await transit('keys/phi/rotate');
    });
    afterAll(() => db.close());

    it('counts per transit key version, re-encrypts to the rotated version, verifies', async () => {
      const status = await custos(['encryption', 'status', ...flags()], { env });
      expect(status.code, status.stdout).toBe(0);
      expect(status.stdout).toMatch(/key phi v1 \(old\): 150/);
      expect(status.stdout).toMatch(/deterministic v1 deterministic \(current\): 150/);
      expect(status.stdout).toMatch(/failing to decrypt: 0/);
      const required = await custos(['encryption', 'status', ...flags(), '--require-current'], {
        env,
      });
      expect(required.code).toBe(1);

      // A token with only what the docs list: encrypt and decrypt under phi, read its key.
      const policy = {
        'transit/encrypt/phi': { capabilities: ['update'] },
        'transit/decrypt/phi': { capabilities: ['update'] },
        'transit/keys/phi': { capabilities: ['read'] },
      };
      await api('POST', 'sys/policies/acl/reencrypt-phi', {
        policy: JSON.stringify({ path: policy }),
      });
      const created = (await api('POST', 'auth/token/create', {
        policies: ['reencrypt-phi'],
      })) as { auth: { client_token: string } };
      const narrow = { CUSTOS_ADDR: server.url, CUSTOS_TOKEN: created.auth.client_token };
      const run = await custos(['reencrypt', ...flags(), '--batch', '40', '--json'], {
        env: narrow,
      });
      expect(run.code, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout);
      expect(report).toMatchObject({ complete: true, rowsTotal: 150 });
      expect(report.stats).toMatchObject({ reencrypted: 150, current: 150, verified: 300 });

      // VAULT_ADDR / VAULT_TOKEN work as well.
      const after = await custos(['encryption', 'status', ...flags(), '--require-current'], {
        env: { VAULT_ADDR: server.url, VAULT_TOKEN: token },
      });
      expect(after.code, after.stderr).toBe(0);
      expect(after.stdout).toMatch(/key phi v2 \(current\): 150/);

      // The application (a fresh cipher, nothing cached) reads the re-encrypted values.
      const fresh = appCipher('phi');
      const row = db.prepare('select * from patients where id = 9').get() as Record<string, string>;
      expect(await fresh.decrypt(row.ssn as string, ssn(9))).toBe('ssn-9');
      expect(await fresh.describe(row.ssn as string)).toMatchObject({
        keyId: 'phi',
        keyVersion: 2,
      });
      for (const output of [status, required, run, after]) {
        expect(output.stdout + output.stderr).not.toContain(CANARY);
      }
    });

    it("finds a value moved to another tenant's row (the server refuses its data key)", async () => {
      const moved = db.prepare('select ssn from patients where id = 7').get() as { ssn: string };
      // Row 8 belongs to tenant c2, row 7 to c1.
      db.prepare('update patients set ssn = ? where id = 8').run(moved.ssn);
      const status = await custos(['encryption', 'status', ...flags()], { env });
      expect(status.code, status.stderr).toBe(1);
      expect(status.stdout).toMatch(/failing to decrypt: 1/);
      await transit('keys/phi/rotate');
      const run = await custos(['reencrypt', ...flags()], { env });
      expect(run.code, run.stderr).toBe(1);
      expect(run.stdout).toMatch(/149 values re-encrypted.* 1 failing/);
      expect(run.stderr).toMatch(/ERR_REENCRYPT_INCOMPLETE/);
      expect(db.prepare('select ssn from patients where id = 8').get()).toEqual(moved);
      expect(status.stdout + run.stdout + run.stderr).not.toContain(CANARY);
    });

    it('stops with exit 2 (ERR_KMS_REMOTE) when the server cannot be reached or refuses the token, writing nothing', async () => {
      await transit('keys/phi/rotate');
      const before = everything();
      const closed = `http://127.0.0.1:${await freePort()}`;
      const unreachable = await custos(['reencrypt', ...flags()], {
        env: { CUSTOS_ADDR: closed, CUSTOS_TOKEN: token },
      });
      expect(unreachable).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/ERR_KMS_REMOTE/),
      });
      const refused = await custos(['reencrypt', ...flags()], {
        env: { CUSTOS_ADDR: server.url, CUSTOS_TOKEN: 'not-a-token' },
      });
      expect(refused).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/permission denied.*ERR_KMS_REMOTE/),
      });
      const noToken = await custos(['encryption', 'status', ...flags()], {
        env: { CUSTOS_ADDR: server.url },
      });
      expect(noToken).toMatchObject({ code: 2, stderr: expect.stringMatching(/no token/) });
      expect(everything()).toEqual(before);
      expect(refused.stderr + unreachable.stderr).not.toContain(token);
    });

    it('exits 2 on keys it cannot use: none given, --kms-file without --transit-key, an unknown transit key', async () => {
      const target = ['--db', dbFile, '--table', 'patients', '--columns', 'ssn'];
      const none = await custos(['reencrypt', ...target], { env });
      expect(none).toMatchObject({ code: 2, stderr: expect.stringMatching(/--transit-key/) });
      const fileOnly = await custos(['reencrypt', ...target, '--kms-file', join(dir, 'x.json')], {
        env,
      });
      expect(fileOnly).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/needs --transit-key/),
      });
      const unknown = await custos(['reencrypt', ...target, '--transit-key', 'nope'], { env });
      expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/ERR_KMS_REMOTE/) });
    });
  });

  describe.runIf(hasPostgres)('on a remote transit key, PostgreSQL table', () => {
    const schema = uniqueName('reencrypt_kms');
    let pool: pg.Pool;
    beforeAll(async () => {
      pool = new pg.Pool({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` });
      await pool.query(`create schema ${schema}`);
    });
    afterAll(async () => {
      await pool.query(`drop schema ${schema} cascade`);
      await pool.end();
    });

    it('re-encrypts a table named by URL and schema to the rotated transit key', async () => {
      await transit('keys/phi-pg');
      const fc = appCipher('phi-pg');
      await pool.query('create table notes (id uuid primary key, tenant text, body text)');
      const where = (id: string) => ({ table: 'notes', column: 'body', rowId: id, tenantId: 't1' });
      for (let i = 0; i < 40; i++) {
        const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
        await pool.query('insert into notes values ($1, $2, $3)', [
          id,
          't1',
          await fc.encrypt(`note ${i}`, where(id)),
        ]);
      }
      await transit('keys/phi-pg/rotate');
      const url = new URL(POSTGRES_URL);
      url.searchParams.set('schema', schema);
      const target = ['--db', url.toString(), '--table', 'notes', '--columns', 'body'];
      const kms = ['--tenant-column', 'tenant', '--transit-key', 'phi-pg'];
      const run = await custos(['reencrypt', ...target, ...kms], { env });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/40 values re-encrypted/);
      const status = await custos(['encryption', 'status', ...target, ...kms, '--json'], { env });
      expect(JSON.parse(status.stdout).columns[0]).toMatchObject({
        failing: 0,
        versions: [expect.objectContaining({ keyId: 'phi-pg', keyVersion: 2, current: true })],
      });
      const { rows } = await pool.query('select id, body from notes order by id limit 1');
      expect(await appCipher('phi-pg').decrypt(rows[0].body, where(rows[0].id))).toBe('note 0');
    });
  });

  describe('on a local KMS file', () => {
    it('re-encrypts after the application rotated its key, reads the file without writing it, and checks its mode', async () => {
      const kmsFile = join(dir, 'kms.json');
      const kms = await LocalKms.open(kmsFile);
      kms.createKey('phi-local');
      await kms.save();
      const fc = createFieldCipher({ kms: localKmsDataKeys(kms, 'phi-local') });
      const dbFile = join(dir, 'local.db');
      const db = new Database(dbFile);
      try {
        db.exec('create table visits (id text primary key, clinic text, notes text)');
        const where = (id: string, clinic: string) => ({
          table: 'visits',
          column: 'notes',
          rowId: id,
          tenantId: clinic,
        });
        const insert = db.prepare('insert into visits values (?, ?, ?)');
        for (let i = 0; i < 60; i++) {
          const id = `v-${i}`;
          const clinic = `c${i % 2}`;
          insert.run(id, clinic, await fc.encrypt({ code: 'J45', visit: i }, where(id, clinic)));
        }
        kms.rotate('phi-local');
        await kms.save();
        const saved = await readFile(kmsFile, 'utf8');

        const flags = [
          ...['--db', dbFile, '--table', 'visits', '--columns', 'notes'],
          ...['--tenant-column', 'clinic', '--kms-file', kmsFile, '--transit-key', 'phi-local'],
        ];
        const run = await custos(['reencrypt', ...flags], { env: {} });
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toMatch(/60 values re-encrypted/);
        expect(run.stdout).toMatch(/verified: 60 values decrypt under the primary/);
        expect(await readFile(kmsFile, 'utf8')).toBe(saved);

        const reopened = createFieldCipher({
          kms: localKmsDataKeys(await LocalKms.open(kmsFile), 'phi-local'),
        });
        const row = db.prepare("select * from visits where id = 'v-5'").get() as Record<
          string,
          string
        >;
        expect(await reopened.decrypt(row.notes as string, where('v-5', 'c1'))).toEqual({
          code: 'J45',
          visit: 5,
        });
        expect(await reopened.describe(row.notes as string)).toMatchObject({ keyVersion: 2 });

        const other = await custos(['reencrypt', ...flags.slice(0, -1), 'nope'], { env: {} });
        expect(other).toMatchObject({
          code: 2,
          stderr: expect.stringMatching(/ERR_KEY_NOT_FOUND/),
        });
        const missing = flags.map((f) => (f === kmsFile ? join(dir, 'missing.json') : f));
        expect(await custos(['reencrypt', ...missing], { env: {} })).toMatchObject({
          code: 2,
          stderr: expect.stringMatching(/does not exist/),
        });
        await chmod(kmsFile, 0o644);
        expect(await custos(['encryption', 'status', ...flags], { env: {} })).toMatchObject({
          code: 2,
          stderr: expect.stringMatching(/ERR_INSECURE_FILE/),
        });
      } finally {
        db.close();
      }
    });
  });
});

/** A loopback port nothing listens on (taken, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const listener = createServer().listen(0, '127.0.0.1', () => {
      const { port } = listener.address() as { port: number };
      listener.close(() => resolve(port));
    });
  });
}
