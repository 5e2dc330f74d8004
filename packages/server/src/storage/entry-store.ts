import { VersionConflict } from '@custos/core/errors';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { StorageSchema } from './schema.js';

/** An entry as stored: opaque bytes and the revision that changes on every write. */
export interface StoredEntry {
  readonly value: Uint8Array;
  readonly revision: number;
}

/** Reads and writes of entries, inside or outside a transaction. */
export interface EntryWriter {
  get(path: string): Promise<StoredEntry | undefined>;
  /** Every stored path that starts with `prefix`, sorted. */
  listPaths(prefix: string): Promise<string[]>;
  /** Creates `path`; throws `ERR_VERSION_CONFLICT` if it exists (settled by the primary key). */
  insert(path: string, value: Uint8Array): Promise<void>;
  /**
   * Replaces `path` only if its revision is still `expectedRevision`; throws
   * `ERR_VERSION_CONFLICT` otherwise (another writer got there first, or it was deleted).
   */
  update(path: string, value: Uint8Array, expectedRevision: number): Promise<void>;
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
}

function versionConflict(path: string): VersionConflict {
  return new VersionConflict(`entry ${path} was changed concurrently`);
}

/** Escapes LIKE wildcards so a path prefix matches literally. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function writer(db: Kysely<StorageSchema> | Transaction<StorageSchema>): EntryWriter {
  return {
    async get(path) {
      const row = await db
        .selectFrom('custos_entries')
        .select(['value', 'revision'])
        .where('path', '=', path)
        .executeTakeFirst();
      return row === undefined ? undefined : { value: row.value, revision: Number(row.revision) };
    },
    async listPaths(prefix) {
      const rows = await db
        .selectFrom('custos_entries')
        .select('path')
        .where(sql<boolean>`path like ${likePrefix(prefix)} escape '\\'`)
        .orderBy('path')
        .execute();
      // The filter keeps the result exact even where LIKE ignores case.
      return rows.map((r) => r.path).filter((p) => p.startsWith(prefix));
    },
    async insert(path, value) {
      const result = await db
        .insertInto('custos_entries')
        .values({ path, value })
        .onConflict((oc) => oc.column('path').doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 0) throw versionConflict(path);
    },
    async update(path, value, expectedRevision) {
      const result = await db
        .updateTable('custos_entries')
        .set((eb) => ({ value, revision: eb('revision', '+', 1) }))
        .where('path', '=', path)
        .where('revision', '=', expectedRevision)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw versionConflict(path);
    },
    async put(path, value) {
      await db
        .insertInto('custos_entries')
        .values({ path, value })
        .onConflict((oc) =>
          oc.column('path').doUpdateSet((eb) => ({
            value,
            revision: eb('custos_entries.revision', '+', 1),
          })),
        )
        .execute();
    },
    async delete(path) {
      await db.deleteFrom('custos_entries').where('path', '=', path).execute();
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
export function createEntryStore(db: Kysely<StorageSchema>): EntryStore {
  return {
    ...writer(db),
    transaction: (work) => db.transaction().execute((trx) => work(writer(trx))),
  };
}
