import { POSTGRES_URL, requireService } from '@custos/test-support/services';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestStorage, type TestStorage } from '../../test/harness.js';
import { openStorage, type StorageDatabase } from './database.js';
import { createEntryStore, type EntryStore } from './entry-store.js';

const bytes = (s: string) => Buffer.from(s);
const text = (entry: { value: Uint8Array } | undefined) =>
  Buffer.from(entry?.value ?? []).toString();

// Two servers on one PostgreSQL database (two connection pools): what getLocked holds off.
describe.runIf(await requireService('postgres'))('getLocked on PostgreSQL', () => {
  let storage: TestStorage;
  let databases: StorageDatabase[];
  let first: EntryStore;
  let second: EntryStore;
  let monitor: pg.Client;
  beforeAll(async () => {
    storage = await createTestStorage('postgres');
    databases = [await openStorage(storage.location), await openStorage(storage.location)];
    first = createEntryStore((databases[0] as StorageDatabase).db);
    second = createEntryStore((databases[1] as StorageDatabase).db);
    monitor = new pg.Client({ connectionString: POSTGRES_URL });
    await monitor.connect();
  });
  afterAll(async () => {
    await monitor.end();
    for (const database of databases) await database.close();
    await storage.cleanup();
  });

  /** Resolves once some session runs a statement like `pattern` and waits for a lock. */
  const waitingForLock = (pattern: string) =>
    vi.waitFor(async () => {
      const { rows } = await monitor.query(
        `select count(*)::int as n from pg_stat_activity
          where wait_event_type = 'Lock' and query ilike $1`,
        [pattern],
      );
      expect((rows[0] as { n: number }).n).toBeGreaterThan(0);
    });

  it('an update of a locked entry waits until the locking transaction ends', async () => {
    await first.insert('lock/parent', bytes('v1'));
    const events: string[] = [];
    let update: Promise<void> | undefined;
    await first.transaction(async (tx) => {
      const locked = await tx.getLocked('lock/parent');
      expect(text(locked)).toBe('v1');
      update = second.update('lock/parent', bytes('v2'), locked?.revision as number).then(() => {
        events.push('update done');
      });
      await waitingForLock('update%custos_entries%');
      await tx.insert('lock/parent/child', bytes('linked'));
      events.push('locking transaction commits');
    });
    await update;
    expect(events).toEqual(['locking transaction commits', 'update done']);
    expect(text(await first.get('lock/parent'))).toBe('v2');
  });

  it('a lock asked for while an update is pending returns the updated entry', async () => {
    await first.insert('lock/marked', bytes('live'));
    const before = await first.get('lock/marked');
    let reader: Promise<string> | undefined;
    await second.transaction(async (updater) => {
      await updater.update('lock/marked', bytes('revoking'), before?.revision as number);
      reader = first.transaction(async (tx) => text(await tx.getLocked('lock/marked')));
      await waitingForLock('select%for share%');
    });
    expect(await reader).toBe('revoking');
  });
});
