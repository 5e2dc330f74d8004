/**
 * Test support for the seal manager itself: a manager over a fresh SQLite storage, without a
 * server around it (the HTTP side is tested through `seal.ts`).
 */

import { afterEach } from 'vitest';
import { SealManager } from '../src/seal/seal-manager.js';
import { openStorage, type StorageDatabase } from '../src/storage/database.js';
import { createEntryStore, type EntryStore } from '../src/storage/entry-store.js';
import { createTestStorage, type TestStorage } from './harness.js';

/** A seal manager over its own storage; `another()` opens a second manager on the same storage. */
export interface SealBed {
  readonly seal: SealManager;
  readonly store: EntryStore;
  another(): Promise<SealManager>;
  close(): Promise<void>;
}

/**
 * Opens an empty SQLite storage and a loaded, uninitialised seal manager over it.
 *
 * @example
 * ```ts
 * const bed = await openSealBed();
 * const shares = await bed.seal.initialize(3, 2);
 * ```
 */
export async function openSealBed(): Promise<SealBed> {
  const storage: TestStorage = await createTestStorage('sqlite');
  const databases: StorageDatabase[] = [];
  const open = async () => {
    const database = await openStorage(storage.location);
    databases.push(database);
    const store = createEntryStore(database.db);
    const seal = new SealManager(store);
    await seal.load();
    return { seal, store };
  };
  const first = await open();
  return {
    ...first,
    another: async () => (await open()).seal,
    async close() {
      for (const database of databases) await database.close();
      await storage.cleanup();
    },
  };
}

/**
 * Seal beds for the tests of one `describe` block, each closed after its test. Call it in the
 * block's body; it returns the function that opens a bed.
 *
 * @example
 * ```ts
 * const bed = sealBeds();
 * it('…', async () => { const { seal } = await bed(); });
 * ```
 */
export function sealBeds(): () => Promise<SealBed> {
  const beds: SealBed[] = [];
  afterEach(async () => {
    for (const opened of beds.splice(0)) await opened.close();
  });
  return async () => {
    const opened = await openSealBed();
    beds.push(opened);
    return opened;
  };
}
