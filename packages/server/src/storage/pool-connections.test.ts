import { requireService } from '@custos/test-support/services';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStorage, type TestStorage } from '../../test/harness.js';
import { openStorage, REQUEST_CONNECTIONS, type StorageDatabase } from './database.js';

// The cluster leadership session keeps one pooled connection while the node is unsealed: the
// requests of a node still get all of theirs at once (none waits for the leadership's).
describe.runIf(await requireService('postgres'))('PostgreSQL pool of a server', () => {
  let storage: TestStorage;
  let db: StorageDatabase;
  beforeAll(async () => {
    storage = await createTestStorage('postgres');
    db = await openStorage(storage.location);
  });
  afterAll(async () => {
    await db.close();
    await storage.cleanup();
  });

  it('gives requests all their connections at once while one more is held', async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held: () => void = () => {};
    const holding = new Promise<void>((resolve) => {
      held = resolve;
    });
    const leadership = db.db.connection().execute(async (connection) => {
      await sql`select 1`.execute(connection);
      held();
      await released;
    });
    await holding;
    // Every request connection checked out together: each waits until all have their own.
    let arrived = 0;
    let allArrived: () => void = () => {};
    const everyone = new Promise<void>((resolve) => {
      allArrived = resolve;
    });
    const pids = await Promise.all(
      Array.from({ length: REQUEST_CONNECTIONS }, () =>
        db.db.connection().execute(async (connection) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(
            connection,
          );
          arrived += 1;
          if (arrived === REQUEST_CONNECTIONS) allArrived();
          await everyone;
          return rows[0]?.pid;
        }),
      ),
    );
    expect(new Set(pids).size).toBe(REQUEST_CONNECTIONS);
    release();
    await leadership;
  });
});
