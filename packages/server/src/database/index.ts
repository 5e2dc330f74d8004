/**
 * `@custos/server/database`: the one opener of SQLite and PostgreSQL databases by location, for
 * the server's storage and for tools that work on an application's database (`custos
 * reencrypt`, `custos encryption status`). Returns a Kysely instance; the drivers
 * (better-sqlite3, pg) are the server's.
 *
 * @example
 * ```ts
 * import { openDatabase } from '@custos/server/database';
 * const { db, close } = await openDatabase('postgres://app@db:5432/app?schema=clinic');
 * ```
 * @module
 */
export {
  type DatabaseKind,
  type OpenDatabase,
  type OpenDatabaseOptions,
  openDatabase,
} from './open-database.js';
