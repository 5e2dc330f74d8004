import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POSTGRES_URL, requireService, uniqueName } from '@custos/test-support/services';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BlindIndexKillTable,
  runBlindIndexKillTest,
} from '../../../test/blind-index-kill-harness.js';

const DDL =
  'create table people (id integer primary key, tenant text, email text, email_bidx text)';
const COLUMNS = ['id', 'tenant', 'email', 'email_bidx'];
const hasPostgres = await requireService('postgres');

describe('custos reencrypt --blind-index, killed with SIGKILL again and again', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-bidx-kill-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('on SQLite: resumes, loses no application write, and every row is found throughout', async () => {
    const location = join(dir, 'app.db');
    const db = new Database(location);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 10000');
    db.exec(DDL);
    const table: BlindIndexKillTable = {
      location,
      async query(sql, params = []) {
        const statement = db.prepare(sql);
        if (statement.reader) return statement.all(...params) as Record<string, unknown>[];
        statement.run(...params);
        return [];
      },
      async insert(rows) {
        const insert = db.prepare('insert into people values (?, ?, ?, ?)');
        db.transaction(() => {
          for (const row of rows) insert.run(...COLUMNS.map((c) => row[c]));
        })();
      },
    };
    try {
      const kills = await runBlindIndexKillTest({
        table,
        keyringFile: join(dir, 'sqlite-keyring.json'),
        rows: 2000,
        kills: 6,
      });
      expect(kills).toBeGreaterThanOrEqual(3);
    } finally {
      db.close();
    }
  }, 150_000);

  it.runIf(hasPostgres)(
    'on PostgreSQL: resumes, loses no application write, and every row is found throughout',
    async () => {
      const schema = uniqueName('bidx_kill');
      const url = new URL(POSTGRES_URL);
      url.searchParams.set('schema', schema);
      const pool = new pg.Pool({
        connectionString: POSTGRES_URL,
        options: `-c search_path=${schema}`,
      });
      await pool.query(`create schema ${schema}`);
      await pool.query(DDL);
      const translate = (sql: string) => {
        let i = 0;
        return sql.replace(/\?/g, () => `$${++i}`);
      };
      const table: BlindIndexKillTable = {
        location: url.toString(),
        async query(sql, params = []) {
          return (await pool.query(translate(sql), [...params])).rows;
        },
        async insert(rows) {
          await pool.query(
            'insert into people select * from unnest($1::int[], $2::text[], $3::text[], $4::text[])',
            COLUMNS.map((c) => rows.map((r) => r[c])),
          );
        },
      };
      try {
        const kills = await runBlindIndexKillTest({
          table,
          keyringFile: join(dir, 'pg-keyring.json'),
          rows: 2000,
          kills: 6,
        });
        expect(kills).toBeGreaterThanOrEqual(3);
      } finally {
        await pool.query(`drop schema ${schema} cascade`);
        await pool.end();
      }
    },
    150_000,
  );
});
