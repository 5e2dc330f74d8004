import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort } from '@custos/test-support/http';
import {
  dropPostgresSchema,
  POSTGRES_URL,
  requireService,
  uniqueName,
} from '@custos/test-support/services';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from './open-database.js';

describe('openDatabase on SQLite', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-open-database-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a missing file instead of creating an empty database', async () => {
    const path = join(dir, 'mistyped.db');
    await expect(openDatabase(path)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/^cannot open SQLite database .*mistyped\.db/),
    });
    expect(existsSync(path)).toBe(false);
  });

  it("leaves an application's database as it is (journal mode, no new tables)", async () => {
    const path = join(dir, 'app.db');
    const app = new Database(path);
    app.exec('create table patients (id integer primary key, ssn text)');
    app.close();
    const opened = await openDatabase(`sqlite:${path}`);
    expect(opened).toMatchObject({ kind: 'sqlite', description: `sqlite ${path}` });
    const { rows } = await sql<{ name: string }>`select name from sqlite_master`.execute(opened.db);
    expect(rows).toEqual([{ name: 'patients' }]);
    await opened.close();
    const after = new Database(path);
    expect(after.pragma('journal_mode', { simple: true })).toBe('delete');
    after.close();
  });

  it('creates a missing file owner-only, in an owner-only directory, when asked to', async () => {
    const path = join(dir, 'new', 'custos.db');
    const opened = await openDatabase(path, { create: true });
    await opened.close();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'new'))).mode & 0o777).toBe(0o700);
  });
});

describe('openDatabase on PostgreSQL', async () => {
  const hasPostgres = await requireService('postgres');
  const schemas: string[] = [];
  afterAll(async () => {
    for (const schema of schemas) await dropPostgresSchema(schema);
  });

  it('refuses an unreachable server without showing the password', async () => {
    const port = await closedPort();
    const location = `postgres://app:CANARY-PASSWORD@127.0.0.1:${port}/app`;
    const refusal = await openDatabase(location).catch((err: Error) => err);
    expect(refusal).toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(`^cannot connect to PostgreSQL at 127.0.0.1:${port}: `),
    });
    expect(String((refusal as Error).message)).not.toContain('CANARY-PASSWORD');
  });

  it('refuses a schema name that is not a plain lowercase identifier', async () => {
    for (const schema of ['Clinic', 'a-b', 'x;drop', '"x"']) {
      await expect(
        openDatabase(`postgres://app@127.0.0.1/app?schema=${encodeURIComponent(schema)}`),
      ).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
        message: 'schema must be a lowercase SQL identifier',
      });
    }
  });

  it.runIf(hasPostgres)('works in the ?schema= it names, created only when asked to', async () => {
    const schema = uniqueName('open_database');
    schemas.push(schema);
    const location = `${POSTGRES_URL}?schema=${schema}`;
    const created = await openDatabase(location, { create: true });
    await sql`create table patients (id integer primary key)`.execute(created.db);
    expect(created).toMatchObject({ kind: 'postgres', schema });
    expect(created.description).toMatch(new RegExp(`^postgres .+ schema ${schema}$`));
    await created.close();
    const existing = await openDatabase(location, { maxConnections: 2 });
    const { rows } = await sql<{ schema: string }>`
      select table_schema as schema from information_schema.tables where table_name = 'patients' and table_schema = current_schema()`.execute(
      existing.db,
    );
    expect(rows).toEqual([{ schema }]);
    await existing.close();
  });
});
