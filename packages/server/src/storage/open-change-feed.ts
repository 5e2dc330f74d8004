import { resolve } from 'node:path';
import { loadPg } from '../database/load-pg.js';
import { postgresConnectionOf } from '../database/open-database.js';
import { type ChangeFeed, createLocalChangeFeed, sharedLocalChangeFeed } from './change-feed.js';
import type { StorageTimeouts } from './database.js';
import {
  createPostgresChangeFeed,
  type PostgresChangeFeedOptions,
} from './postgres-change-feed.js';

/** Options of {@link openChangeFeed} beyond the storage's own timeouts. */
export type ChangeFeedOptions = Pick<
  PostgresChangeFeedOptions,
  'heartbeatMs' | 'settleTimeoutMs' | 'reconnectMs' | 'onState'
>;

/**
 * The change feed of the storage at `location` (the grammar of `openStorage`): on PostgreSQL a
 * LISTEN connection of its own (the first attempt awaited; until it listens, caches are
 * bypassed); on a SQLite file the in-process feed shared by every server of this process on
 * that file; in memory a feed of its own.
 *
 * @example
 * ```ts
 * const feed = await openChangeFeed('postgres://custos@db:5432/custos');
 * const store = createEntryStore(storage.db, feed);
 * ```
 */
export async function openChangeFeed(
  location: string,
  timeouts: StorageTimeouts = {},
  options: ChangeFeedOptions = {},
): Promise<ChangeFeed> {
  if (/^postgres(ql)?:\/\//.test(location)) {
    const { schema, config } = postgresConnectionOf(location, timeouts);
    const pg = loadPg();
    const feed = createPostgresChangeFeed({
      ...options,
      schema: schema ?? undefined,
      connect: (applicationName) => new pg.Client({ ...config, application_name: applicationName }),
    });
    await feed.ready();
    return feed;
  }
  const file = location.replace(/^sqlite:/, '');
  return file === ':memory:' || file === 'memory'
    ? createLocalChangeFeed()
    : sharedLocalChangeFeed(resolve(file));
}
