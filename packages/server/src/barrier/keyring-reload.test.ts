import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStorage, storageKinds, type TestStorage } from '../../test/harness.js';
import { SealManager } from '../seal/seal-manager.js';
import { openStorage, type StorageDatabase } from '../storage/database.js';
import { createEntryStore, type EntryStore } from '../storage/entry-store.js';
import { type Barrier, createBarrier } from './barrier.js';

/** One node: its own connection, seal manager and barrier, counting keyring reloads. */
interface Node {
  readonly seal: SealManager;
  readonly barrier: Barrier;
  readonly store: EntryStore;
  readonly reloads: () => number;
  close(): Promise<void>;
}

async function openNode(location: string, share: Buffer): Promise<Node> {
  const storage: StorageDatabase = await openStorage(location);
  const store = createEntryStore(storage.db);
  const seal = new SealManager(store);
  await seal.load();
  await seal.submitShare(Buffer.from(share));
  let reloads = 0;
  const barrier = createBarrier(store, {
    keyring: () => seal.keyring(),
    reloadKeyring: () => {
      reloads++;
      return seal.reloadKeyring();
    },
  });
  return {
    seal,
    barrier,
    store,
    reloads: () => reloads,
    async close() {
      await seal.seal();
      await storage.close();
    },
  };
}

const barrierVersions = (seal: SealManager) => seal.keyring().info('barrier').versions;

describe.each(await storageKinds())('barrier keyring reloads on %s', (kind) => {
  let storage: TestStorage;
  let share: Buffer;
  let a: Node;
  let b: Node;

  beforeAll(async () => {
    storage = await createTestStorage(kind);
    const setup = await openStorage(storage.location);
    [share] = (await new SealManager(createEntryStore(setup.db)).initialize(1, 1)) as [Buffer];
    await setup.close();
    a = await openNode(storage.location, share);
    b = await openNode(storage.location, share);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await storage.cleanup();
  });

  it('reloads for an unknown version only: a damaged entry under a known one is refused as is', async () => {
    await a.barrier.write('app/damaged', { v: 'canary-reload-3c9a' });
    const stored = await a.store.get('app/damaged');
    const flipped = Buffer.from(stored?.value ?? []);
    flipped[flipped.length - 3] = (flipped[flipped.length - 3] as number) ^ 0x01;
    await a.store.put('app/damaged', flipped);
    await expect(a.barrier.read('app/damaged')).rejects.toMatchObject({
      code: 'ERR_STORAGE_INTEGRITY',
    });
    expect(a.reloads()).toBe(0);

    await b.seal.rotateBarrierKey();
    await b.barrier.write('app/new', { v: 'under v2' });
    expect((await a.barrier.read('app/new'))?.data).toEqual({ v: 'under v2' });
    expect(a.reloads()).toBe(1);
    expect(barrierVersions(a.seal).map((v) => v.version)).toEqual([1, 2]);
    // Known now: reading it again needs no reload.
    await a.barrier.read('app/new');
    expect(a.reloads()).toBe(1);
  });

  it('a seal that closes while the node reloads for an unknown version fails the read as sealed, not as damage', async () => {
    // A third node whose keyring reload finds the seal closed meanwhile (an operator sealed it
    // between the failed decryption and the reload): that is ERR_SEALED (503, retry later),
    // never ERR_STORAGE_INTEGRITY (500, "storage was tampered with").
    const c = await openNode(storage.location, share);
    const racing = createBarrier(c.store, {
      keyring: () => c.seal.keyring(),
      reloadKeyring: async () => {
        await c.seal.seal();
        return c.seal.reloadKeyring();
      },
    });
    try {
      await b.seal.rotateBarrierKey();
      await b.barrier.write('app/after-seal', { v: 'canary-sealed-7f21' });
      const failure = await racing.read('app/after-seal').then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toMatchObject({ code: 'ERR_SEALED' });
      expect(String(failure)).not.toContain('canary-sealed-7f21');
    } finally {
      await c.seal.submitShare(Buffer.from(share));
      await c.close();
    }
  });

  it('a rotation and a reload keep the encryption counts this node made since the keyring was stored', async () => {
    const primary = () => {
      const info = a.seal.keyring().info('barrier');
      return info.versions.find((v) => v.version === info.primaryVersion);
    };
    await a.seal.reloadKeyring();
    const start = primary()?.encryptions ?? 0;
    for (let i = 0; i < 5; i++) await a.barrier.write(`count/${i}`, { i });
    expect(primary()?.encryptions).toBe(start + 5);
    const version = primary()?.version;

    await b.seal.rotateBarrierKey(); // stored with b's (smaller) count for that version
    await a.seal.reloadKeyring();
    expect(barrierVersions(a.seal).find((v) => v.version === version)?.encryptions).toBe(start + 5);
    await a.seal.rotateBarrierKey(); // now stored with a's count
    const fresh = await openNode(storage.location, share);
    try {
      expect(barrierVersions(fresh.seal).find((v) => v.version === version)?.encryptions).toBe(
        start + 5,
      );
    } finally {
      await fresh.close();
    }
  });
});
