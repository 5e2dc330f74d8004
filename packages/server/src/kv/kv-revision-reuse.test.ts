import { Keyring } from '@custos/core/crypto';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { BARRIER_KEY, type Barrier, createBarrier } from '../barrier/barrier.js';
import { createLocalChangeFeed } from '../storage/change-feed.js';
import { openStorage, type StorageDatabase } from '../storage/database.js';
import { createEntryStore } from '../storage/entry-store.js';
import { createKvEngine, type KvEngine } from './kv-engine.js';

/**
 * Found by a review of the fill-after-write change. The KV engine writes on the metadata it holds
 * cached, and a conditional update at the cached revision proves the copy current only if an
 * entry never repeats a revision: one deleted and created again used to start over at 1, so a
 * copy cached before the delete passed the check (ABA) and the write committed metadata derived
 * from the key as it was. Revisions now start at a random value (`firstRevision`,
 * storage/entry-store.ts). Same model as kv-cached-writes.test.ts: a second writer shares the
 * database but not the change feed (a node whose changes were not told yet: e.g. the writer's
 * own feed connection is down, storage/NOTES.md "A's own feed down").
 */
describe('KV writes on cached metadata of a key deleted and re-created elsewhere', () => {
  const keyring = new Keyring();
  keyring.createKey(BARRIER_KEY);
  const keys = { keyring: () => keyring, reloadKeyring: async () => {} };
  let storage: StorageDatabase;
  let here: KvEngine;
  let elsewhere: KvEngine;
  const on = (): Barrier =>
    createBarrier(createEntryStore(storage.db, createLocalChangeFeed()), keys);
  const cold = () => createKvEngine(on(), 'secret');

  beforeEach(async () => {
    await storage?.close();
    storage = await openStorage(':memory:');
    here = createKvEngine(on(), 'secret');
    elsewhere = createKvEngine(on(), 'secret');
  });
  afterAll(async () => {
    await storage.close();
  });

  it('a key re-created with cas_required is not written without cas on the old cached metadata', async () => {
    await here.write('app/k', { n: 1 }); // its metadata (revision 1) kept here
    await elsewhere.deleteMetadata('app/k');
    await elsewhere.setMetadata('app/k', { cas_required: true }); // revision 1 again
    await expect(here.write('app/k', { n: 2 })).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
    });
    expect((await cold().readMetadata('app/k'))?.cas_required).toBe(true);
  });

  it('a key re-created elsewhere does not get the old key’s custom metadata back', async () => {
    await here.setMetadata('app/m', { custom_metadata: { owner: 'old-team' } });
    await here.write('app/m', { n: 1 }); // revision 2, kept here
    await elsewhere.deleteMetadata('app/m');
    await elsewhere.write('app/m', { n: 'new' }); // revision 1
    await elsewhere.setMetadata('app/m', { max_versions: 5 }); // revision 2 again
    await here.write('app/m', { n: 2 });
    const meta = await cold().readMetadata('app/m');
    expect(meta?.custom_metadata ?? {}).toEqual({});
    expect(meta?.max_versions).toBe(5);
  });
});
