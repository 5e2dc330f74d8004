import type { OpenDatabase } from '@custos/server/database';

/**
 * Opens the application's database named by `--db` (`postgres://…[?schema=]`, or an existing
 * SQLite file) with the server's opener: nothing is created or reconfigured, a missing file or
 * an unreachable server is a usage error. A run needs two connections at most.
 */
export async function openTargetDatabase(location: string): Promise<OpenDatabase<unknown>> {
  const { openDatabase } = await import('@custos/server/database');
  return openDatabase(location, { maxConnections: 2 });
}
