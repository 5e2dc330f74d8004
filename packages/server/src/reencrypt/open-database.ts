import type { ReencryptDatabase } from './database.js';
import { openPostgresReencryptDatabase } from './postgres-database.js';
import { openSqliteReencryptDatabase } from './sqlite-database.js';

/**
 * Opens the database a re-encryption run works on: `postgres://…` / `postgresql://…` (with an
 * optional `?schema=`) or the path of an existing SQLite file (`sqlite:` prefix optional).
 *
 * @example
 * ```ts
 * const db = await openReencryptDatabase(process.env.DATABASE_URL ?? 'app.db');
 * ```
 */
export async function openReencryptDatabase(location: string): Promise<ReencryptDatabase> {
  if (/^postgres(ql)?:\/\//.test(location)) return openPostgresReencryptDatabase(location);
  return openSqliteReencryptDatabase(location.replace(/^sqlite:/, ''));
}
