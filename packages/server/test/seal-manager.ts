/**
 * Test support for the seal manager itself: a manager over a fresh SQLite storage, without a
 * server around it (the HTTP side is tested through `seal.ts`).
 */

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { afterEach } from 'vitest';
import type { RootKeyWrapper, WrappedRootKey } from '../src/seal/root-key-wrapper.js';
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

/**
 * A seal of the given type that wraps with AES-256-GCM under a key of its own (node:crypto):
 * what a transit or PKCS#11 seal does, without the outside service. Counts its unwraps; each
 * waits for `gate` (an unwrap in progress).
 *
 * @example
 * ```ts
 * const seal = aesSeal('transit');
 * const manager = new SealManager(store, seal.wrapper);
 * ```
 */
export function aesSeal(type: 'transit' | 'pkcs11', gate?: Promise<void>) {
  const key = randomBytes(32);
  let unwraps = 0;
  const wrapper: RootKeyWrapper = {
    type,
    description: `test ${type} seal`,
    async wrap(rootKey) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([
        iv,
        cipher.update(rootKey),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return { type, ciphertext: sealed.toString('base64'), keyVersion: 1, keyId: 'test' };
    },
    async unwrap(wrapped: WrappedRootKey) {
      unwraps++;
      await gate;
      const sealed = Buffer.from(wrapped.ciphertext, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12), {
        authTagLength: 16,
      });
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      return Buffer.concat([
        decipher.update(sealed.subarray(12, sealed.length - 16)),
        decipher.final(),
      ]);
    },
  };
  return { wrapper, unwraps: () => unwraps };
}
