/**
 * Stored known-answer vectors of the server's storage (`barrier-v1.json` in
 * `packages/test-support/vectors/`, written once by its `generate.ts`): unseal keys of an earlier
 * build reproduce its root key, which opens its stored barrier keyring, under which every stored
 * entry decrypts to its value at its path. A change to the seal or barrier format that still
 * round-trips fails here, since it would lock every existing server out of its data.
 */
import { loadKeyring } from '@custos/core/crypto';
import { type BarrierVectorFile, readVectorFile } from '@custos/test-support/vectors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStorage, storageKinds, type TestStorage } from '../../test/harness.js';
import { combineRootKey, decryptKeyring } from '../seal/root-key.js';
import { openStorage, type StorageDatabase } from '../storage/database.js';
import { createEntryStore, type EntryStore } from '../storage/entry-store.js';
import { type Barrier, createBarrier } from './barrier.js';

const file = readVectorFile<BarrierVectorFile>('barrier-v1.json');
const shares = file.unsealKeys.map((key) => Buffer.from(key, 'base64'));
const encryptedKeyring = Buffer.from(file.encryptedKeyring, 'hex');

describe('stored seal vectors', () => {
  it('every pair of the stored unseal keys reproduces the root key that opens the keyring', async () => {
    const keyrings = new Set<string>();
    for (let i = 0; i < shares.length; i++) {
      for (let j = i + 1; j < shares.length; j++) {
        const rootKey = await combineRootKey([shares[i], shares[j]] as Buffer[], file.threshold);
        keyrings.add(decryptKeyring(rootKey, encryptedKeyring));
      }
    }
    expect(keyrings.size).toBe(1);
    expect(loadKeyring([...keyrings][0]).keyNames()).toEqual(['barrier']);
  });

  it('one stored key alone is refused', async () => {
    await expect(combineRootKey([shares[0] as Buffer], file.threshold)).rejects.toMatchObject({
      code: 'ERR_UNSEAL_FAILED',
    });
  });
});

describe.each(await storageKinds())('stored barrier entries on %s', (kind) => {
  let storage: TestStorage;
  let db: StorageDatabase;
  let store: EntryStore;
  let barrier: Barrier;
  beforeAll(async () => {
    const rootKey = await combineRootKey(shares.slice(0, 2), file.threshold);
    const keyring = loadKeyring(decryptKeyring(rootKey, encryptedKeyring));
    storage = await createTestStorage(kind);
    db = await openStorage(storage.location);
    store = createEntryStore(db.db);
    barrier = createBarrier(store, { keyring: () => keyring, reloadKeyring: async () => {} });
    for (const entry of file.entries) await store.put(entry.path, Buffer.from(entry.value, 'hex'));
  });
  afterAll(async () => {
    await db.close();
    await storage.cleanup();
  });

  it.each(file.entries.map((e) => [e.path, e] as const))(
    '%s decrypts to its stored value',
    async (path, entry) => {
      expect((await barrier.read(path))?.data).toEqual(entry.data);
    },
  );

  it('an entry stored under another path fails the integrity check', async () => {
    const [first, second] = file.entries;
    await store.put(`moved/${first?.path}`, Buffer.from(first?.value as string, 'hex'));
    await store.put(second?.path as string, Buffer.from(first?.value as string, 'hex'));
    for (const path of [`moved/${first?.path}`, second?.path as string]) {
      await expect(barrier.read(path)).rejects.toMatchObject({ code: 'ERR_STORAGE_INTEGRITY' });
    }
  });
});
