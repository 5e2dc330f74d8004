import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CompiledQuery, type Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../database/open-database.js';
import { sqliteHandleOf } from '../database/sqlite-handle.js';
import { createGroupCommit, type GroupCommit, type QueryRunner } from './group-commit.js';

/** A promise and the function that settles it: holds a transaction open until the test says. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

const insert = (run: QueryRunner, name: string) =>
  run(CompiledQuery.raw('insert into rows (name) values (?)', [name]));

describe('group commit (SQLite)', () => {
  let dir: string;
  let db: Kysely<{ rows: { name: string } }>;
  let close: () => Promise<void>;
  let group: GroupCommit;
  /** A second connection to the file: sees only what is committed. */
  let observer: Database.Database;
  const committed = () =>
    (observer.prepare('select name from rows order by name').all() as { name: string }[]).map(
      (r) => r.name,
    );

  /**
   * A transaction that writes `name`, then holds its group open until `open()` (and fails then
   * with `failure`, when given).
   */
  const holding = (name: string, failure?: string) => {
    const held = gate();
    const done = group.run(async (run) => {
      await insert(run, name);
      await held.opened;
      if (failure !== undefined) throw new Error(failure);
    });
    return { done, open: held.open };
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-group-'));
    const opened = await openDatabase<{ rows: { name: string } }>(join(dir, 'g.db'), {
      create: true,
    });
    db = opened.db;
    close = opened.close;
    const sqlite = sqliteHandleOf(db);
    if (sqlite === undefined) throw new Error('openDatabase registered no SQLite handle');
    sqlite.prepare('pragma journal_mode = wal').run();
    sqlite.prepare('create table rows (name text primary key)').run();
    group = createGroupCommit(db, sqlite);
    observer = new Database(join(dir, 'g.db'), { readonly: true });
  });
  afterEach(async () => {
    observer.close();
    await close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the transactions queued behind one in its commit, and answers each after it', async () => {
    const held = gate();
    const seenInside: string[][] = [];
    const first = group.run(async (run) => {
      await insert(run, 'a');
      await held.opened;
      return 'first';
    });
    const later = ['b', 'c'].map((name) =>
      group.run(async (run) => {
        // Same database transaction as `a`'s, not yet committed: the observer does not see it.
        seenInside.push(committed());
        await insert(run, name);
        return name;
      }),
    );
    const answeredWith: string[][] = [];
    for (const p of [first, ...later]) void p.then(() => answeredWith.push(committed()));
    held.open();
    expect(await Promise.all([first, ...later])).toEqual(['first', 'b', 'c']);
    expect(seenInside).toEqual([[], []]);
    // Every answer came after the one COMMIT that made all three durable.
    expect(answeredWith).toEqual([
      ['a', 'b', 'c'],
      ['a', 'b', 'c'],
      ['a', 'b', 'c'],
    ]);
  });

  it('rolls a failing transaction back alone; the others of its group commit', async () => {
    const first = holding('a');
    const failing = group.run(async (run) => {
      await insert(run, 'b');
      throw new Error('work failed after writing');
    });
    // A statement's own error (the primary key) fails its transaction only.
    const duplicate = group.run(async (run) => {
      await insert(run, 'c');
      await insert(run, 'a');
    });
    const last = group.run((run) => insert(run, 'd'));
    first.open();
    await expect(failing).rejects.toThrow('work failed after writing');
    await expect(duplicate).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    await first.done;
    await last;
    expect(committed()).toEqual(['a', 'd']);
  });

  it('rolls back a group’s first transaction alone when it fails, and runs the rest', async () => {
    const first = holding('a', 'first failed after writing');
    const second = group.run(async (run) => {
      // The first's write is gone before this one runs.
      expect((await run(CompiledQuery.raw('select name from rows'))).rows).toEqual([]);
      await insert(run, 'b');
    });
    first.open();
    await expect(first.done).rejects.toThrow('first failed after writing');
    await second;
    expect(committed()).toEqual(['b']);
  });

  it('fails every transaction of a group whose COMMIT fails, and the next group still commits', async () => {
    const sqlite = sqliteHandleOf(db);
    sqlite?.prepare('pragma foreign_keys = on').run();
    sqlite
      ?.prepare(
        'create table refs (name text references rows (name) deferrable initially deferred)',
      )
      .run();
    const first = holding('a');
    // Its dangling reference is checked at COMMIT only (a deferred foreign key).
    const dangling = group.run((run) =>
      run(CompiledQuery.raw('insert into refs (name) values (?)', ['nowhere'])),
    );
    first.open();
    await expect(first.done).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
    await expect(dangling).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
    expect(committed()).toEqual([]);
    await group.run((run) => insert(run, 'e'));
    expect(committed()).toEqual(['e']);
  });

  it('fails the whole group when a transaction ends SQLite’s transaction under it', async () => {
    const first = holding('a');
    const ending = group.run(async (run) => {
      await run(CompiledQuery.raw('rollback'));
    });
    first.open();
    await expect(first.done).rejects.toThrow();
    await expect(ending).rejects.toThrow();
    expect(committed()).toEqual([]);
    await group.run((run) => insert(run, 'f'));
    expect(committed()).toEqual(['f']);
  });

  it('keeps queries from outside the group out of its transaction until it ends', async () => {
    const rolledBack = holding('a', 'undone');
    // Run inside the open transaction, this read would see the uncommitted `a`.
    const outside = db.selectFrom('rows').select('name').execute();
    rolledBack.open();
    await expect(rolledBack.done).rejects.toThrow('undone');
    expect(await outside).toEqual([]);
  });

  it('runs each transaction’s work in its caller’s async context', async () => {
    const context = new AsyncLocalStorage<string>();
    const held = gate();
    const seen: Array<string | undefined> = [];
    const jobs = ['first', 'second', 'third'].map((name) =>
      context.run(name, () =>
        group.run(async (run) => {
          seen.push(context.getStore());
          await insert(run, name);
          if (name === 'first') await held.opened;
        }),
      ),
    );
    held.open();
    await Promise.all(jobs);
    expect(seen).toEqual(['first', 'second', 'third']);
  });

  it('answers at most 64 transactions per commit: later ones wait for the next', async () => {
    const commits: number[] = [];
    const first = holding('n000');
    const rest = Array.from({ length: 99 }, (_, i) =>
      group
        .run(async (run) => {
          await insert(run, `n${String(i + 1).padStart(3, '0')}`);
        })
        .then(() => commits.push(committed().length)),
    );
    first.open();
    await first.done;
    await Promise.all(rest);
    expect(new Set(commits)).toEqual(new Set([64, 100]));
  });

  it('refuses what is queued when no transaction can begin, and begins again later', async () => {
    // Another connection holds the write lock past the (shortened) busy timeout.
    sqliteHandleOf(db)?.prepare('pragma busy_timeout = 50').run();
    const writer = new Database(join(dir, 'g.db'));
    writer.exec('begin immediate');
    const queued = [group.run((run) => insert(run, 'x')), group.run((run) => insert(run, 'y'))];
    // `begin` is deferred: the lock is met at the first write, which fails its transaction only.
    for (const p of queued) await expect(p).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    writer.exec('rollback');
    writer.close();
    await group.run((run) => insert(run, 'z'));
    expect(committed()).toEqual(['z']);
  });

  it('refuses what is queued once the database is closed', async () => {
    await db.selectFrom('rows').select('name').execute();
    await close();
    await expect(group.run((run) => insert(run, 'z'))).rejects.toThrow();
    close = async () => {};
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
