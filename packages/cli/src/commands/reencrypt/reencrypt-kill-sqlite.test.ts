import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKillTest, type StoredCheckpoint } from '../../../test/reencrypt-kill-harness.js';

describe('custos reencrypt on SQLite, killed with SIGKILL again and again', () => {
  let dir: string;
  let db: Database.Database;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-kill-'));
    db = new Database(join(dir, 'app.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 10000');
  });
  afterAll(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('loses no row, keeps application writes, and ends with every row at the primary', async () => {
    const summary = await runKillTest({
      keyringFile: join(dir, 'keyring.json'),
      rows: 10_000,
      kills: 20,
      table: {
        location: join(dir, 'app.db'),
        async create(rows) {
          db.exec('create table patients (id integer primary key, ssn text, email text)');
          const insert = db.prepare('insert into patients (id, ssn, email) values (?, ?, ?)');
          db.transaction(() => {
            for (const row of rows) insert.run(row.id, row.ssn, row.email);
          })();
        },
        async writeSsn(id, ssn) {
          db.prepare('update patients set ssn = ? where id = ?').run(ssn, id);
        },
        async readAll() {
          return db.prepare('select id, ssn, email from patients order by id').all() as {
            id: number;
            ssn: string;
            email: string;
          }[];
        },
        async checkpoint() {
          return db
            .prepare('select phase, last_id, target_keys, stats from custos_reencrypt_checkpoint')
            .get() as StoredCheckpoint | undefined;
        },
      },
    });
    expect(summary.kills).toBeGreaterThanOrEqual(20);
    expect(summary.conflicts).toBeGreaterThan(0);
    if (process.env.CUSTOS_TEST_VERBOSE === '1') console.warn(summary);
  }, 150_000);
});
