import type { Kysely } from 'kysely';
import { CustosError } from '../errors/index.js';
import type { RevocationStore } from './revocation.js';

/** Options for {@link createSqlRevocationStore}. */
export interface SqlRevocationStoreOptions {
  /** Your Kysely instance on SQLite or PostgreSQL. custos never opens or closes it. */
  // biome-ignore lint/suspicious/noExplicitAny: the store works on any database schema type.
  readonly db: Kysely<any>;
  /** Default `custos_token_revocations`. */
  readonly tableName?: string;
}

/** A SQL revocation store, with the table management it needs. */
export interface SqlRevocationStore extends RevocationStore {
  /** Creates the table and its index if they do not exist (or run the DDL in your migrations). */
  createTable(): Promise<void>;
  /** Deletes expired entries; returns how many. Run it now and then (e.g. hourly). */
  deleteExpired(): Promise<number>;
}

const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * A revocation store in a SQL table (SQLite or PostgreSQL) through your Kysely instance:
 * `id` primary key and `expires_at` in milliseconds since the epoch. The test-and-set is one
 * `INSERT … ON CONFLICT (id) DO UPDATE … WHERE expires_at <= now`, atomic in both databases.
 *
 * @example
 * ```ts
 * const revocations = createSqlRevocationStore({ db });
 * await revocations.createTable();
 * ```
 */
export function createSqlRevocationStore(options: SqlRevocationStoreOptions): SqlRevocationStore {
  const { db } = options;
  const table = options.tableName ?? 'custos_token_revocations';
  if (!TABLE_NAME.test(table)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'tableName must be a lowercase SQL identifier');
  }
  return {
    async createTable() {
      await db.schema
        .createTable(table)
        .ifNotExists()
        .addColumn('id', 'varchar(255)', (col) => col.primaryKey())
        .addColumn('expires_at', 'bigint', (col) => col.notNull())
        .execute();
      await db.schema
        .createIndex(`${table}_expires_at`)
        .ifNotExists()
        .on(table)
        .column('expires_at')
        .execute();
    },
    async add(id, expiresAt) {
      const now = Date.now();
      const result = await db
        .insertInto(table)
        .values({ id, expires_at: expiresAt.getTime() })
        .onConflict((oc) =>
          oc
            .column('id')
            .doUpdateSet((eb) => ({ expires_at: eb.ref('excluded.expires_at') }))
            .where(`${table}.expires_at`, '<=', now),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async hasAny(ids) {
      if (ids.length === 0) return false;
      const row = await db
        .selectFrom(table)
        .select('id')
        .where('id', 'in', [...ids])
        .where('expires_at', '>', Date.now())
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },
    async deleteExpired() {
      const result = await db
        .deleteFrom(table)
        .where('expires_at', '<=', Date.now())
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
