import { isCustosError } from '@custos/core/errors';
import { type OpenDatabase, openDatabase } from '../database/open-database.js';
import { checkDatabaseFile } from './database-file.js';
import { migrate } from './migrations.js';
import type { StorageSchema } from './schema.js';

/** PostgreSQL timeouts (see `OpenDatabaseOptions`): fail fast when storage does not answer. */
export interface StorageTimeouts {
  readonly connectTimeoutMs?: number;
  readonly queryTimeoutMs?: number;
}

/** An open, migrated database. */
export type StorageDatabase = OpenDatabase<StorageSchema>;

/** SQLite tuned for the server's own file (never applied to an application's database). */
const STORAGE_PRAGMAS = [
  'journal_mode = WAL',
  'synchronous = NORMAL',
  'busy_timeout = 5000',
  // Lets `LIKE 'prefix%'` (LIST) use the primary-key index.
  'case_sensitive_like = ON',
];

/**
 * PostgreSQL connections of a server's pool: {@link REQUEST_CONNECTIONS} for requests, and the
 * one the cluster leadership session holds while the node is unsealed
 * (`cluster/cluster-leadership.ts`), so requests keep all of theirs.
 */
export const REQUEST_CONNECTIONS = 10;
const POOL_CONNECTIONS = REQUEST_CONNECTIONS + 1;

/**
 * Opens the storage named by `location` and runs the migrations:
 * - `:memory:` or `memory` — SQLite in memory (dev mode's default);
 * - a file path or `sqlite:<path>` — SQLite file (created owner-only, 0600, with its directory);
 *   an existing one must be a regular file of this user that no one else may read or write,
 *   in a directory others cannot write to ({@link checkDatabaseFile});
 * - `postgres://user@host:port/db[?schema=name]` — PostgreSQL; with `schema`, the tables live in
 *   that schema (created if missing), which lets several deployments or test runs share a database.
 *
 * @example
 * ```ts
 * const storage = await openStorage('postgres://custos@db:5432/custos');
 * ```
 */
export async function openStorage(
  location: string,
  timeouts: StorageTimeouts = {},
): Promise<StorageDatabase> {
  const sqliteFile = /^postgres(ql)?:\/\//.test(location)
    ? undefined
    : location.replace(/^sqlite:/, '');
  // An existing file (or link, or companion file) other users could reach is refused first.
  if (sqliteFile !== undefined && sqliteFile !== ':memory:' && sqliteFile !== 'memory')
    checkDatabaseFile(sqliteFile);
  let storage: StorageDatabase;
  try {
    storage = await openDatabase<StorageSchema>(location === 'memory' ? ':memory:' : location, {
      create: true,
      sqlitePragmas: STORAGE_PRAGMAS,
      maxConnections: POOL_CONNECTIONS,
      ...timeouts,
    });
  } catch (err) {
    // Storage settings are configuration: a start-up failure, not a usage error.
    if (isCustosError(err)) throw new Error(`storage: ${err.message}`);
    throw err;
  }
  try {
    await migrate(storage.db as never, storage.kind, storage.schema);
  } catch (err) {
    await storage.close();
    throw err;
  }
  return storage;
}
