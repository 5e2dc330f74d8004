import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import type { StorageKind } from './storage-kind.js';

/**
 * Migrations, inline so a bundled or packed server carries them. Each is written once and never
 * edited; a schema change is a new migration.
 */
function migrations(kind: StorageKind): Record<string, Migration> {
  return {
    '0001-entries': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('custos_entries')
          .ifNotExists()
          .addColumn('path', 'text', (c) => c.primaryKey())
          .addColumn('value', kind === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
          .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(1))
          .execute();
        if (kind === 'postgres') {
          // LIST scans path prefixes; text_pattern_ops makes LIKE 'prefix%' use the index
          // whatever the database collation.
          await sql`create index if not exists custos_entries_path_prefix on custos_entries (path text_pattern_ops)`.execute(
            db,
          );
        }
      },
    },
  };
}

/** Runs every pending migration; throws with the failing migration's name. */
export async function migrate(
  db: Kysely<unknown>,
  kind: StorageKind,
  schema?: string,
): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(kind) };
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'custos_migrations',
    migrationLockTableName: 'custos_migrations_lock',
    // Kysely looks for its tables in every schema unless told which; another deployment's (or a
    // test's) schema in the same database would otherwise be mistaken for ours.
    ...(kind === 'postgres' ? { migrationTableSchema: schema ?? 'public' } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const what = failed === undefined ? 'storage migrations' : `storage migration ${failed}`;
    throw new Error(`${what} failed: ${(error as Error).message}`);
  }
}
