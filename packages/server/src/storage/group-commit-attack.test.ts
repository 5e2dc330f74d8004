import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledQuery, type Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../database/open-database.js';
import { sqliteHandleOf } from '../database/sqlite-handle.js';
import { createGroupCommit, type GroupCommit, type QueryRunner } from './group-commit.js';

/** A promise and the function that settles it. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

const insert = (run: QueryRunner, name: string) =>
  run(CompiledQuery.raw('insert into rows (name) values (?)', [name]));

/** Review of the group commit: every queued transaction is answered, whatever fails. */
describe('group commit (SQLite): failures of the transaction control statements', () => {
  let dir: string;
  let db: Kysely<{ rows: { name: string } }>;
  let close: () => Promise<void>;
  let group: GroupCommit;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-group-attack-'));
    const opened = await openDatabase<{ rows: { name: string } }>(join(dir, 'g.db'), {
      create: true,
    });
    db = opened.db;
    close = opened.close;
    const sqlite = sqliteHandleOf(db);
    if (sqlite === undefined) throw new Error('openDatabase registered no SQLite handle');
    sqlite.prepare('create table rows (name text primary key)').run();
    group = createGroupCommit(db, sqlite);
  });
  afterEach(async () => {
    await close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers a transaction whose savepoint cannot be opened (the database closed under the group)', async () => {
    const held = gate();
    const started = gate();
    const first = group.run(async (run) => {
      await insert(run, 'a');
      started.open();
      await held.opened;
    });
    const settled: string[] = [];
    const second = group.run((run) => insert(run, 'b'));
    void second.then(
      () => settled.push('resolved'),
      () => settled.push('rejected'),
    );
    // The server closes its database while a group is open (Kysely's destroy does not wait
    // for the connection the group holds).
    await started.opened;
    await close();
    close = async () => {};
    held.open();
    await expect(first).rejects.toThrow();
    // The second transaction's `savepoint` fails: it must be refused, not left unanswered.
    await vi.waitFor(() => expect(settled).toEqual(['rejected']));
  });
});
