import type Database from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * Presents a better-sqlite3 database to Kysely with its prepared statements cached by SQL text.
 * Kysely prepares every query anew; the entry store runs a handful of fixed statements, so
 * preparing each once removes most of SQLite's per-query cost. better-sqlite3 runs statements
 * synchronously, so one statement object is never in use twice at a time.
 */
export function cachingSqliteDatabase(
  database: Database.Database,
  maxStatements = 256,
): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => {
      statements.clear();
      database.close();
    },
    prepare(sql: string): SqliteStatement {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = database.prepare(sql) as unknown as SqliteStatement;
        if (statements.size >= maxStatements)
          statements.delete(statements.keys().next().value as string);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
