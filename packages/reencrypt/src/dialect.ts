import { CustosError } from '@custos/core/errors';
import type { AnyKysely, ReencryptDatabase } from './database.js';
import { postgresReencryptDatabase } from './postgres-database.js';
import { sqliteReencryptDatabase } from './sqlite-database.js';

/**
 * The engine's view of `db`. Plugins are set aside (`withoutPlugins`): a plugin that renames
 * columns or adds a schema would change the names the run reads rows by and writes to.
 */
export function reencryptDatabase(db: AnyKysely): ReencryptDatabase {
  const plain = db.withoutPlugins();
  return sqlFlavor(plain) === 'postgres'
    ? postgresReencryptDatabase(plain)
    : sqliteReencryptDatabase(plain);
}

/**
 * Which SQL a Kysely instance writes, read from how it compiles a query: PostgreSQL numbers its
 * placeholders (`$1`), SQLite does not (`?`); both quote names with `"`. Any driver of either
 * works (better-sqlite3, pg, postgres.js, PGlite …); other databases are refused.
 */
export function sqlFlavor(db: AnyKysely): 'sqlite' | 'postgres' {
  const { sql } = db.selectFrom('t').select('c').where('c', '=', 0).compile();
  if (sql.endsWith('"c" = $1')) return 'postgres';
  if (sql.endsWith('"c" = ?')) return 'sqlite';
  throw new CustosError(
    'ERR_INVALID_ARGUMENT',
    're-encryption works on SQLite and PostgreSQL; this Kysely instance writes SQL for another database',
  );
}
