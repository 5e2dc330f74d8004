import { randomInt } from 'node:crypto';
import { CompiledQuery, type Kysely, SqliteAdapter, sql, type Transaction } from 'kysely';
import { sqliteHandleOf } from '../database/sqlite-handle.js';
import { VersionConflict } from '../errors.js';
import { type ChangeFeed, createLocalChangeFeed } from './change-feed.js';
import { createGroupCommit, type QueryRunner } from './group-commit.js';
import { isUncached } from './layout.js';
import { PATH_DIGEST_SQL } from './postgres-change-feed.js';
import { prepareQuery } from './prepared-query.js';
import { createReadBatcher, type ReadBatcher } from './read-batcher.js';
import type { StorageSchema } from './schema.js';

/** An entry as stored: opaque bytes and the revision that changes on every write. */
export interface StoredEntry {
  readonly value: Uint8Array;
  readonly revision: number;
}

/** Reads and writes of entries, inside or outside a transaction. */
export interface EntryWriter {
  get(path: string): Promise<StoredEntry | undefined>;
  /**
   * Reads `path` like `get` and, inside a transaction, keeps every other writer from updating
   * or deleting it until the transaction ends (PostgreSQL `FOR SHARE`; several transactions may
   * hold it at once). On SQLite a transaction already excludes every other statement. Lets a
   * transaction act on a condition that a concurrent writer cannot change before it commits.
   */
  getLocked(path: string): Promise<StoredEntry | undefined>;
  /** The revision of `path` (undefined when absent), without reading the value. */
  revision(path: string): Promise<number | undefined>;
  /**
   * Every stored path that starts with `prefix`, in code point order (UTF-8 byte order) whatever
   * the database's collation: the order of `[…].sort()` for paths in the Basic Multilingual Plane.
   */
  listPaths(prefix: string): Promise<string[]>;
  /**
   * Creates `path` and answers its revision (drawn by {@link firstRevision}); throws
   * `ERR_VERSION_CONFLICT` if it exists (settled by the primary key).
   */
  insert(path: string, value: Uint8Array): Promise<number>;
  /**
   * Replaces `path` only if its revision is still `expectedRevision`, and answers the new one
   * (`expectedRevision + 1`); throws `ERR_VERSION_CONFLICT` otherwise (another writer got there
   * first, or it was deleted).
   */
  update(path: string, value: Uint8Array, expectedRevision: number): Promise<number>;
  /** Creates or replaces `path` unconditionally (for entries with a single writer). */
  put(path: string, value: Uint8Array): Promise<void>;
  delete(path: string): Promise<void>;
}

/** The storage every component writes through (usually via the barrier). */
export interface EntryStore extends EntryWriter {
  /**
   * Runs `work` in one database transaction: all of its writes land, or none. Conflicts surface
   * as `ERR_VERSION_CONFLICT` from `insert`/`update`; the caller decides whether to retry.
   */
  transaction<T>(work: (tx: EntryWriter) => Promise<T>): Promise<T>;
  /** Every committed write of this store (and, on PostgreSQL, of every node on the storage). */
  readonly changes: ChangeFeed;
}

const FIRST_REVISION_BOUND = 2 ** 30;

/**
 * The revision an entry is created at: drawn at random from [1, 2^30), then increased by one
 * per update, so an entry deleted and created again does not go through the revisions of its
 * earlier life. A copy cached from that life (a node that has not heard of the delete yet)
 * would otherwise pass the revision check of a conditional update, and a write would commit
 * on what the entry was before it was deleted (found by a review: KV metadata re-created with
 * `cas_required` was written without `cas`). A copy matches a re-created entry's revision only
 * if the draw lands within that entry's updates of it: less than one chance in 2^30 per
 * update. Below 2^30, a PostgreSQL `integer` column keeps ~10^9 updates of room above it.
 *
 * @example
 * ```ts
 * firstRevision(); // e.g. 617_295_034
 * ```
 */
export function firstRevision(): number {
  return randomInt(1, FIRST_REVISION_BOUND);
}

/** The conflict: a fixed message for the client, the path for the server log only. */
function versionConflict(path: string): VersionConflict {
  return new VersionConflict(STORAGE_CONFLICT, { path });
}

/** What a client is told of a storage conflict (the entry's path stays in the server log). */
export const STORAGE_CONFLICT = 'the request conflicted with a concurrent change; retry it';

/** Escapes LIKE wildcards so a path prefix matches literally (escape character `\`). */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * A writing statement that also notifies `channel` of the digest of the path it wrote
 * (PostgreSQL; `pathDigest`, so no path reaches other roles that may LISTEN), in the same
 * statement: the notification is delivered only if its transaction commits, and costs no
 * round trip. Its rows are the paths written (one per affected row).
 */
function notifying(
  statement: (values: Readonly<Record<string, unknown>>) => CompiledQuery,
  channel: string | undefined,
) {
  if (channel === undefined) return statement;
  return (values: Readonly<Record<string, unknown>>) => {
    const inner = statement(values);
    return CompiledQuery.raw(
      `with "changed" as (${inner.sql} returning "path") select pg_notify('${channel}', 'c:' || ${PATH_DIGEST_SQL}) from "changed"`,
      [...inner.parameters],
    );
  };
}

/** The entry store's statements, compiled once per database (the SQL differs by dialect). */
function prepareStatements(db: Kysely<StorageSchema>, channel: string | undefined) {
  const entries = 'custos_entries' as const;
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  // SQLite has no row locks (nor their syntax): its transactions hold the only connection.
  const rowLocks = !sqlite;
  // Paths list in code point order on both: SQLite's BINARY collation is byte order already;
  // PostgreSQL's default is the database's, which may be linguistic (`aB` before `Ab`).
  const pathOrder = sqlite ? sql`path` : sql`path collate "C"`;
  const get = (p: (name: 'path') => string) =>
    db.selectFrom(entries).select(['value', 'revision']).where('path', '=', p('path'));
  return {
    get: prepareQuery<'path'>(get),
    getLocked: prepareQuery<'path'>((p) => (rowLocks ? get(p).forShare() : get(p))),
    revision: prepareQuery<'path'>((p) =>
      db.selectFrom(entries).select('revision').where('path', '=', p('path')),
    ),
    list: prepareQuery<'pattern'>((p) =>
      db
        .selectFrom(entries)
        .select('path')
        .where(sql<boolean>`path like ${p('pattern')} escape '\\'`)
        .orderBy(pathOrder),
    ),
    insert: notifying(
      prepareQuery<'path' | 'value' | 'revision'>((p) =>
        db
          .insertInto(entries)
          .values({
            path: p('path'),
            value: p('value') as unknown as Uint8Array,
            revision: p('revision') as unknown as number,
          })
          .onConflict((oc) => oc.column('path').doNothing()),
      ),
      channel,
    ),
    update: notifying(
      prepareQuery<'path' | 'value' | 'revision'>((p) =>
        db
          .updateTable(entries)
          .set((eb) => ({
            value: p('value') as unknown as Uint8Array,
            revision: eb('revision', '+', 1),
          }))
          .where('path', '=', p('path'))
          .where('revision', '=', p('revision') as unknown as number),
      ),
      channel,
    ),
    put: notifying(
      prepareQuery<'path' | 'value' | 'revision'>((p) =>
        db
          .insertInto(entries)
          .values({
            path: p('path'),
            value: p('value') as unknown as Uint8Array,
            revision: p('revision') as unknown as number,
          })
          .onConflict((oc) =>
            oc.column('path').doUpdateSet((eb) => ({
              value: eb.ref('excluded.value'),
              revision: eb('custos_entries.revision', '+', 1),
            })),
          ),
      ),
      channel,
    ),
    delete: notifying(
      prepareQuery<'path'>((p) => db.deleteFrom(entries).where('path', '=', p('path'))),
      channel,
    ),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/** The runner of `db`'s statements (the database, or one transaction of it). */
function runnerOf(db: Kysely<StorageSchema> | Transaction<StorageSchema>): QueryRunner {
  return <R>(query: CompiledQuery) => db.executeQuery<R>(query);
}

/** A notifying statement (PostgreSQL) answers one row per path it wrote. */
async function affectedRows(
  run: QueryRunner,
  wrote: (path: string, outcome: Promise<unknown>) => Promise<void>,
  path: string,
  query: CompiledQuery,
): Promise<number> {
  const result = run(query);
  await wrote(path, result);
  const { numAffectedRows, rows } = await result;
  return Number(numAffectedRows ?? BigInt(rows.length));
}

/** A row as the entry store answers it (drivers may give the revision as a string). */
function storedEntry(
  row: { value: Uint8Array; revision: number } | undefined,
): StoredEntry | undefined {
  return row === undefined ? undefined : { value: row.value, revision: Number(row.revision) };
}

async function readEntry(run: QueryRunner, query: CompiledQuery) {
  const { rows } = await run<{ value: Uint8Array; revision: number }>(query);
  return storedEntry(rows[0]);
}

function writer(
  run: QueryRunner,
  q: Statements,
  wrote: (path: string, outcome: Promise<unknown>) => Promise<void>,
): EntryWriter {
  // Methods, not arrow functions: one writer is made per transaction, and the CLI's bundle
  // names every function value created at run time (esbuild's keepNames), methods excepted.
  return {
    get(path) {
      return readEntry(run, q.get({ path }));
    },
    getLocked(path) {
      return readEntry(run, q.getLocked({ path }));
    },
    async revision(path) {
      const { rows } = await run<{ revision: number }>(q.revision({ path }));
      return rows[0] === undefined ? undefined : Number(rows[0].revision);
    },
    async listPaths(prefix) {
      const { rows } = await run<{ path: string }>(q.list({ pattern: likePrefix(prefix) }));
      // The filter keeps the result exact even where LIKE ignores case.
      return rows.map((r) => r.path).filter((p) => p.startsWith(prefix));
    },
    async insert(path, value) {
      const revision = firstRevision();
      if ((await affectedRows(run, wrote, path, q.insert({ path, value, revision }))) === 0)
        throw versionConflict(path);
      return revision;
    },
    async update(path, value, expectedRevision) {
      const query = q.update({ path, value, revision: expectedRevision });
      if ((await affectedRows(run, wrote, path, query)) === 0) throw versionConflict(path);
      return expectedRevision + 1;
    },
    async put(path, value) {
      // The revision is that of a new entry; an existing one's is increased instead.
      await affectedRows(run, wrote, path, q.put({ path, value, revision: firstRevision() }));
    },
    async delete(path) {
      await affectedRows(run, wrote, path, q.delete({ path }));
    },
  };
}

/** `get` and `revision` through batchers (outside transactions only). */
function batchedReads(
  entries: ReadBatcher<{ value: Uint8Array; revision: number }>,
  revisions: ReadBatcher<{ revision: number }>,
): Pick<EntryWriter, 'get' | 'revision'> {
  return {
    async get(path) {
      return storedEntry(await entries.read(path));
    },
    async revision(path) {
      const row = await revisions.read(path);
      return row === undefined ? undefined : Number(row.revision);
    },
  };
}

/**
 * The entry store over a Kysely database (SQLite or PostgreSQL; the same queries on both).
 *
 * @example
 * ```ts
 * const store = createEntryStore(storage.db);
 * await store.transaction(async (tx) => { await tx.insert('a', bytes); });
 * ```
 */
export function createEntryStore(
  db: Kysely<StorageSchema>,
  changes: ChangeFeed = createLocalChangeFeed(),
): EntryStore {
  const statements = prepareStatements(db, changes.channel);
  // A write outside a transaction is told to this process's caches once it settled (failed
  // ones too: whether a statement whose answer was lost committed is unknown), and returns once
  // every other node dropped what it changed (`ChangeFeed.settle`); at once where no node
  // caches anything (`isUncached`: the change-event relay).
  const direct = writer(runnerOf(db), statements, (path, outcome) =>
    outcome.then(
      async () => {
        changes.committed([path]);
        if (!isUncached(path)) await changes.settle();
      },
      (err: unknown) => {
        changes.committed([path]);
        throw err;
      },
    ),
  );
  // SQLite: concurrent transactions share their commits (group-commit.ts).
  const sqlite = sqliteHandleOf(db);
  const grouped = sqlite === undefined ? undefined : createGroupCommit(db, sqlite);
  // PostgreSQL: the reads of concurrent requests share their round trips (read-batcher.ts).
  const batched =
    db.getExecutor().adapter instanceof SqliteAdapter
      ? {}
      : batchedReads(
          createReadBatcher<{ value: Uint8Array; revision: number }>(db, ['value', 'revision']),
          createReadBatcher<{ revision: number }>(db, ['revision']),
        );
  return {
    ...direct,
    ...batched,
    changes,
    async transaction(work) {
      // The paths a transaction wrote are told once it ended (committed, or maybe committed).
      const paths: string[] = [];
      const record = async (path: string) => {
        paths.push(path);
      };
      let result: Awaited<ReturnType<typeof work>>;
      try {
        result = await (grouped === undefined
          ? db.transaction().execute((trx) => work(writer(runnerOf(trx), statements, record)))
          : grouped.run((run) => work(writer(run, statements, record))));
      } finally {
        if (paths.length > 0) changes.committed(paths);
      }
      if (!paths.every(isUncached)) await changes.settle();
      return result;
    },
  };
}
