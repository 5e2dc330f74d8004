import type { Kysely } from 'kysely';
import { CustosError } from '../errors/index.js';
import type { ApiKeyRecord, ApiKeyStore } from './store.js';

/** Options for {@link createSqlApiKeyStore}. */
export interface SqlApiKeyStoreOptions {
  /** Your Kysely instance on SQLite or PostgreSQL. custos never opens or closes it. */
  // biome-ignore lint/suspicious/noExplicitAny: the store works on any database schema type.
  readonly db: Kysely<any>;
  /** Default `custos_api_keys`. */
  readonly tableName?: string;
}

/** A SQL API-key store, with the table management it needs. */
export interface SqlApiKeyStore extends ApiKeyStore {
  /** Creates the table and its owner index if they do not exist (or run the DDL yourself). */
  createTable(): Promise<void>;
}

interface Row {
  key_id: string;
  prefix: string;
  hmac: string;
  pepper_id: string;
  scopes: string;
  name: string | null;
  owner_id: string | null;
  created_at: number | string;
  expires_at: number | string | null;
  revoked_at: number | string | null;
  last_used_at: number | string | null;
}

const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * API keys in a SQL table (SQLite or PostgreSQL) through your Kysely instance. `key_id` is the
 * primary key, so verification is one indexed lookup; times are milliseconds since the epoch.
 *
 * @example
 * ```ts
 * const store = createSqlApiKeyStore({ db });
 * await store.createTable();
 * const apiKeys = createApiKeyService({ store, prefixes: ['acme'], peppers });
 * ```
 */
export function createSqlApiKeyStore(options: SqlApiKeyStoreOptions): SqlApiKeyStore {
  const { db } = options;
  const table = options.tableName ?? 'custos_api_keys';
  if (!TABLE_NAME.test(table)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'tableName must be a lowercase SQL identifier');
  }
  return {
    async createTable() {
      await db.schema
        .createTable(table)
        .ifNotExists()
        .addColumn('key_id', 'varchar(32)', (col) => col.primaryKey())
        .addColumn('prefix', 'varchar(64)', (col) => col.notNull())
        .addColumn('hmac', 'varchar(64)', (col) => col.notNull())
        .addColumn('pepper_id', 'varchar(32)', (col) => col.notNull())
        .addColumn('scopes', 'text', (col) => col.notNull())
        .addColumn('name', 'text')
        .addColumn('owner_id', 'varchar(255)')
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .execute();
      await db.schema
        .createIndex(`${table}_owner_id`)
        .ifNotExists()
        .on(table)
        .column('owner_id')
        .execute();
    },
    async insert(record) {
      // Settled by the primary key, and refused as the memory store refuses it: the driver's
      // own error differs per database.
      const result = await db
        .insertInto(table)
        .values(toRow(record))
        .onConflict((oc) => oc.column('key_id').doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) {
        throw new CustosError('ERR_KEY_EXISTS', `API key id ${record.keyId} already exists`);
      }
    },
    async findByKeyId(keyId) {
      const row = await db
        .selectFrom(table)
        .selectAll()
        .where('key_id', '=', keyId)
        .executeTakeFirst();
      return row === undefined ? undefined : fromRow(row as Row);
    },
    async revoke(keyId, revokedAt) {
      const result = await db
        .updateTable(table)
        .set({ revoked_at: revokedAt.getTime() })
        .where('key_id', '=', keyId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async touch(keyId, lastUsedAt) {
      await db
        .updateTable(table)
        .set({ last_used_at: lastUsedAt.getTime() })
        .where('key_id', '=', keyId)
        .execute();
    },
    async listByOwner(ownerId) {
      const rows = await db
        .selectFrom(table)
        .selectAll()
        .where('owner_id', '=', ownerId)
        .orderBy('created_at', 'desc')
        .execute();
      return rows.map((row) => fromRow(row as Row));
    },
  };
}

function toRow(record: ApiKeyRecord): Row {
  return {
    key_id: record.keyId,
    prefix: record.prefix,
    hmac: record.hmac,
    pepper_id: record.pepperId,
    scopes: JSON.stringify(record.scopes),
    name: record.name,
    owner_id: record.ownerId,
    created_at: record.createdAt.getTime(),
    expires_at: record.expiresAt?.getTime() ?? null,
    revoked_at: record.revokedAt?.getTime() ?? null,
    last_used_at: record.lastUsedAt?.getTime() ?? null,
  };
}

// PostgreSQL returns bigint columns as strings; SQLite as numbers.
const toDate = (value: number | string | null) => (value === null ? null : new Date(Number(value)));

function fromRow(row: Row): ApiKeyRecord {
  return {
    keyId: row.key_id,
    prefix: row.prefix,
    hmac: row.hmac,
    pepperId: row.pepper_id,
    scopes: JSON.parse(row.scopes) as string[],
    name: row.name,
    ownerId: row.owner_id,
    createdAt: toDate(row.created_at) as Date,
    expiresAt: toDate(row.expires_at),
    revokedAt: toDate(row.revoked_at),
    lastUsedAt: toDate(row.last_used_at),
  };
}
