/**
 * Databases for the re-encryption tests: the application's Kysely instance (SQLite or a fresh
 * PostgreSQL schema, from `@custos/test-support/kysely`) and direct SQL for the test's
 * "application".
 */
import { openTestDatabase, type TestDatabaseKind } from '@custos/test-support/kysely';
import { CompiledQuery, type Kysely } from 'kysely';

export { testDatabaseKinds } from '@custos/test-support/kysely';

/** A scratch database with direct SQL access for the test's "application". */
export interface TableDatabase {
  readonly name: string;
  // biome-ignore lint/suspicious/noExplicitAny: the tables are made by the test.
  readonly db: Kysely<any>;
  /** Runs SQL with `?` placeholders (translated for PostgreSQL). */
  query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /** Inserts many rows in one statement per chunk. */
  insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  close(): Promise<void>;
}

/** An empty database of `kind`. */
export async function tableDatabase(kind: TestDatabaseKind): Promise<TableDatabase> {
  const { db, close } = await openTestDatabase(kind, 'reencrypt');
  const translate = (sql: string) => {
    if (kind === 'sqlite') return sql;
    let i = 0;
    return sql.replace(/\?/g, () => `$${++i}`);
  };
  const query = async (sql: string, params: readonly unknown[] = []) =>
    (await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(translate(sql), [...params])))
      .rows;
  return {
    name: kind === 'sqlite' ? 'SQLite' : 'PostgreSQL',
    db,
    query,
    async insert(table, rows) {
      if (rows.length === 0) return;
      const columns = Object.keys(rows[0] as Record<string, unknown>);
      const size = kind === 'sqlite' ? 500 : 2000;
      for (let i = 0; i < rows.length; i += size) {
        const chunk = rows.slice(i, i + size);
        const tuple = `(${columns.map(() => '?').join(', ')})`;
        await query(
          `insert into ${table} (${columns.join(', ')}) values ${chunk.map(() => tuple).join(', ')}`,
          chunk.flatMap((row) => columns.map((c) => row[c] ?? null)),
        );
      }
    },
    close,
  };
}
