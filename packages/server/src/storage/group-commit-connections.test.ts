import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestStorage, type TestStorage } from '../../test/harness.js';
import { openStorage, type StorageDatabase } from './database.js';
import { createEntryStore, type EntryStore } from './entry-store.js';

const bytes = (s: string) => Buffer.from(s);

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

/**
 * Review of the group commit: two entry stores on one SQLite file, each on its own connection
 * (two servers of one process on one file). A group whose first transaction only read holds a
 * read snapshot (WAL); the other connection commits meanwhile; the group's next transaction
 * writes.
 */
describe('group commit beside another connection to the same SQLite file', () => {
  let storage: TestStorage;
  let one: StorageDatabase;
  let two: StorageDatabase;
  let here: EntryStore;
  let there: EntryStore;
  let seedRevision: number;
  beforeEach(async () => {
    storage = await createTestStorage('sqlite');
    one = await openStorage(storage.location);
    two = await openStorage(storage.location);
    here = createEntryStore(one.db);
    there = createEntryStore(two.db);
    seedRevision = await here.insert('seed', bytes('0'));
  });
  afterEach(async () => {
    await one.close();
    await two.close();
    await storage.cleanup();
  });

  it('a transaction queued behind a read-only one writes after the other connection committed', async () => {
    const held = gate();
    const reading = here.transaction(async (tx) => {
      const seed = await tx.get('seed');
      await held.opened;
      return seed?.revision;
    });
    const writing = here.transaction(async (tx) => {
      await tx.insert('queued', bytes('1'));
    });
    // The other connection commits while the group's read snapshot is open.
    await there.transaction(async (tx) => {
      await tx.insert('elsewhere', bytes('2'));
    });
    held.open();
    expect(await reading).toBe(seedRevision);
    await writing;
    expect(Buffer.from((await here.get('queued'))?.value ?? []).toString()).toBe('1');
    expect(Buffer.from((await here.get('elsewhere'))?.value ?? []).toString()).toBe('2');
  });

  it('a transaction queued behind a read-only one reads what the other connection committed', async () => {
    const held = gate();
    const reading = here.transaction(async (tx) => {
      await tx.get('seed');
      await held.opened;
    });
    const rereading = here.transaction(async (tx) => (await tx.get('seed'))?.revision);
    const seed = await there.get('seed');
    await there.update('seed', bytes('1'), seed?.revision as number);
    held.open();
    await reading;
    // Not the group's read snapshot from before the other connection's commit.
    expect(await rereading).toBe(seedRevision + 1);
  });
});
