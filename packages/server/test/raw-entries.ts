import { POSTGRES_URL } from '@custos/test-support/services';
import Database from 'better-sqlite3';
import pg from 'pg';
import { likePrefix } from '../src/storage/entry-store.js';
import type { TestStorage } from './harness.js';

/**
 * Direct access to a test server's raw `custos_entries` table, behind the server's back: for
 * tests that damage, move or list stored entries the way an attacker with database access could.
 */
export interface RawEntries {
  /** The stored (sealed) value at `path`; throws when there is none. */
  get(path: string): Promise<Buffer>;
  /** Overwrites the stored value at `path`. */
  set(path: string, value: Buffer): Promise<void>;
  /**
   * Moves the revision of `path` on, value untouched, without any node's change feed hearing of
   * it: what a write on another node looks like before its notification arrives.
   */
  bumpRevision(path: string): Promise<void>;
  /** Runs SQL of the storage's own dialect on its database (in its schema on PostgreSQL). */
  run(statement: string): Promise<void>;
  /** The stored paths that start with `prefix`, in code point order (as the entry store lists). */
  paths(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The raw entries of `storage` (SQLite file or PostgreSQL schema of a test server).
 *
 * @example
 * ```ts
 * const raw = await rawEntries(server.storage);
 * const [path] = await raw.paths('sys/token/id/');
 * await raw.set(path, damaged(await raw.get(path)));
 * await raw.close();
 * ```
 */
export async function rawEntries(storage: TestStorage): Promise<RawEntries> {
  const missing = (path: string) => new Error(`no stored entry at ${path}`);
  if (storage.raw.kind === 'sqlite') {
    const db = new Database(storage.raw.file);
    return {
      get: async (path) => {
        const row = db.prepare('select value from custos_entries where path = ?').get(path) as
          | { value: Buffer }
          | undefined;
        if (row === undefined) throw missing(path);
        return row.value;
      },
      set: async (path, value) => {
        db.prepare('update custos_entries set value = ? where path = ?').run(value, path);
      },
      bumpRevision: async (path) => {
        db.prepare('update custos_entries set revision = revision + 1 where path = ?').run(path);
      },
      run: async (statement) => {
        db.exec(statement);
      },
      paths: async (prefix) =>
        (
          db
            .prepare("select path from custos_entries where path like ? escape '\\' order by path")
            .all(likePrefix(prefix)) as { path: string }[]
        ).map((row) => row.path),
      close: async () => {
        db.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`set search_path to "${storage.raw.schema}"`);
  return {
    get: async (path) => {
      const { rows } = await client.query('select value from custos_entries where path = $1', [
        path,
      ]);
      if (rows[0] === undefined) throw missing(path);
      return rows[0].value as Buffer;
    },
    set: async (path, value) => {
      await client.query('update custos_entries set value = $1 where path = $2', [value, path]);
    },
    bumpRevision: async (path) => {
      await client.query('update custos_entries set revision = revision + 1 where path = $1', [
        path,
      ]);
    },
    run: async (statement) => {
      await client.query(statement);
    },
    paths: async (prefix) =>
      (
        await client.query(
          'select path from custos_entries where path like $1 escape \'\\\' order by path collate "C"',
          [likePrefix(prefix)],
        )
      ).rows.map((row: { path: string }) => row.path),
    close: () => client.end(),
  };
}
