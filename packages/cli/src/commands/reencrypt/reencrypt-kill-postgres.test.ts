import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POSTGRES_URL, requireService, uniqueName } from '@custos/test-support/services';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKillTest, type StoredCheckpoint } from '../../../test/reencrypt-kill-harness.js';

const hasPostgres = await requireService('postgres');

describe.runIf(hasPostgres)(
  'custos reencrypt on PostgreSQL, killed with SIGKILL again and again',
  () => {
    const schema = uniqueName('reencrypt_kill');
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('schema', schema);
    let dir: string;
    let pool: pg.Pool;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'custos-kill-'));
      pool = new pg.Pool({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` });
      await pool.query(`create schema ${schema}`);
    });
    afterAll(async () => {
      await pool.query(`drop schema ${schema} cascade`);
      await pool.end();
      await rm(dir, { recursive: true, force: true });
    });

    it('loses no row, keeps application writes, and ends with every row at the primary', async () => {
      const summary = await runKillTest({
        keyringFile: join(dir, 'keyring.json'),
        rows: 10_000,
        kills: 20,
        table: {
          location: url.toString(),
          async create(rows) {
            await pool.query(
              'create table patients (id integer primary key, ssn text, email text)',
            );
            for (let i = 0; i < rows.length; i += 20_000) {
              const chunk = rows.slice(i, i + 20_000);
              await pool.query(
                'insert into patients (id, ssn, email) select * from unnest($1::int[], $2::text[], $3::text[])',
                [chunk.map((r) => r.id), chunk.map((r) => r.ssn), chunk.map((r) => r.email)],
              );
            }
          },
          async writeSsn(id, ssn) {
            await pool.query('update patients set ssn = $1 where id = $2', [ssn, id]);
          },
          async readAll() {
            return (await pool.query('select id, ssn, email from patients order by id')).rows;
          },
          async checkpoint() {
            const { rows } = await pool.query<StoredCheckpoint>(
              'select phase, last_id, target_keys, stats from custos_reencrypt_checkpoint',
            );
            return rows[0];
          },
        },
      });
      expect(summary.kills).toBeGreaterThanOrEqual(20);
      expect(summary.conflicts).toBeGreaterThan(0);
      if (process.env.CUSTOS_TEST_VERBOSE === '1') console.warn(summary);
    }, 150_000);
  },
);
