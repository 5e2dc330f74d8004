import { Keyring } from '@custos/core/crypto';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { BARRIER_KEY, type Barrier, createBarrier } from '../barrier/barrier.js';
import { createLocalChangeFeed } from '../storage/change-feed.js';
import { openStorage, type StorageDatabase } from '../storage/database.js';
import { createEntryStore } from '../storage/entry-store.js';
import { createKvEngine, type KvEngine } from './kv-engine.js';
import type { KeyMetadata } from './kv-metadata.js';

/**
 * A KV write takes the mount's settings and the key's metadata from this node's caches when it
 * holds them (no reads in its transaction). Here the caches are made stale on purpose: a second
 * writer shares the database but not the change feed (another node whose changes were not told
 * yet), so every decision taken on cached data must be taken again on fresh reads.
 */
describe('KV writes on cached metadata and settings', () => {
  const keyring = new Keyring();
  keyring.createKey(BARRIER_KEY);
  const keys = { keyring: () => keyring, reloadKeyring: async () => {} };
  let storage: StorageDatabase;
  let here: KvEngine;
  let elsewhere: KvEngine;
  let key = 0;
  const next = () => `app/k${++key}`;
  /** A barrier on the database with a change feed of its own (a node of its own). */
  const on = (): Barrier =>
    createBarrier(createEntryStore(storage.db, createLocalChangeFeed()), keys);
  /** A node that caches nothing yet: it reads what storage holds. */
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

  it('a write leaves the metadata it started from as readers had it (writes past the trim too)', async () => {
    const k = next();
    await here.write(k, { n: 0 });
    const before = (await here.readMetadata(k)) as KeyMetadata;
    const seen = JSON.stringify(before);
    for (let n = 1; n <= 12; n++) await here.write(k, { n }); // ten kept: versions 1–3 trimmed
    expect(JSON.stringify(before)).toBe(seen);
    expect(Object.keys(before.versions)).toEqual(['1']);
    const after = (await here.readMetadata(k)) as KeyMetadata;
    expect(after.current_version).toBe(13);
    expect(Object.keys(after.versions)).toEqual([
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
      '10',
      '11',
      '12',
      '13',
    ]);
    // What the cache hands out is read-only, nested entries included.
    expect(Object.isFrozen(after)).toBe(true);
    expect(Object.isFrozen(after.versions)).toBe(true);
    expect(Object.isFrozen(after.versions['4'])).toBe(true);
    expect(await cold().readMetadata(k)).toEqual(after);
  });

  it('a write on stale metadata is redone on fresh reads: no version is lost or reused', async () => {
    const name = next();
    await here.write(name, { n: 1 });
    expect((await here.readMetadata(name))?.current_version).toBe(1); // cached here
    await elsewhere.write(name, { n: 2 });
    const third = await here.write(name, { n: 3 });
    expect(third.version).toBe(3);
    const read = await cold().read(name, 2);
    expect(read).toMatchObject({ kind: 'ok', data: { n: 2 } });
    expect(await cold().read(name)).toMatchObject({ kind: 'ok', version: 3, data: { n: 3 } });
  });

  it('keeps the metadata of the last of concurrent writes of one key, never an earlier one', async () => {
    const name = next();
    await here.write(name, { n: 0 });
    // Concurrent writes of one key commit together (storage/group-commit.ts) and each keeps
    // what it wrote only if no other write of the key came since it began.
    const written = await Promise.all(
      Array.from({ length: 20 }, (_, i) => here.write(name, { n: i + 1 })),
    );
    expect(written.map((w) => w.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 2),
    );
    expect((await here.readMetadata(name))?.current_version).toBe(21);
    expect(await here.read(name)).toMatchObject({ kind: 'ok', version: 21 });
    expect((await cold().readMetadata(name))?.current_version).toBe(21);
    // The next write starts from the kept metadata and gets the next version.
    expect((await here.write(name, { n: 22 })).version).toBe(22);
  });

  it('check-and-set is judged on the stored version, not the cached one', async () => {
    const name = next();
    await here.write(name, { n: 1 });
    await here.readMetadata(name);
    await elsewhere.write(name, { n: 2 });
    // The cache says version 1; storage says 2: cas 2 succeeds, cas 1 is the mismatch it is.
    expect((await here.write(name, { n: 3 }, 2)).version).toBe(3);
    await here.readMetadata(name);
    await elsewhere.write(name, { n: 4 });
    await expect(here.write(name, { n: 5 }, 3)).rejects.toMatchObject({
      code: 'ERR_VERSION_CONFLICT',
    });
  });

  it('a key cached as missing but created elsewhere is written as its next version', async () => {
    const name = next();
    expect(await here.readMetadata(name)).toBeUndefined(); // cached as missing
    await elsewhere.write(name, { n: 1 });
    expect((await here.write(name, { n: 2 })).version).toBe(2);
  });

  it('settings changed elsewhere apply once the cached ones are refused', async () => {
    const name = next();
    await here.write(name, { n: 1 });
    expect((await here.config()).cas_required).toBe(false); // cached here
    await here.readMetadata(name);
    await elsewhere.setConfig({ max_versions: 0, cas_required: true, delete_version_after: 0 });
    // Metadata and settings both stale: the cached try commits nothing, the fresh one refuses.
    await elsewhere.write(name, { n: 2 }, 1);
    await expect(here.write(name, { n: 3 })).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
    });
    expect((await elsewhere.readMetadata(name))?.current_version).toBe(2);
  });

  it('metadata handed to readers stays as cached while a write changes its own copy', async () => {
    const name = next();
    await here.write(name, { n: 1 });
    const before = await here.readMetadata(name);
    await here.write(name, { n: 2 });
    expect(before?.current_version).toBe(1);
    expect(Object.isFrozen(before)).toBe(true);
    expect((await here.readMetadata(name))?.current_version).toBe(2);
  });

  // Found by a review of the fill-after-write change. The KV engine writes on the metadata it holds
  // cached, and a conditional update at the cached revision proves the copy current only if an
  // entry never repeats a revision: one deleted and created again used to start over at 1, so a
  // copy cached before the delete passed the check (ABA) and the write committed metadata derived
  // from the key as it was. Revisions now start at a random value (`firstRevision`,
  // storage/entry-store.ts). The writer elsewhere is a node whose changes were not told yet
  // (e.g. the writer's own feed connection is down, storage/NOTES.md "A's own feed down").
  it('a key re-created with cas_required is not written without cas on the old cached metadata', async () => {
    await here.write('app/k', { n: 1 }); // its metadata (at its first revision) kept here
    await elsewhere.deleteMetadata('app/k');
    await elsewhere.setMetadata('app/k', { cas_required: true }); // a new entry: a new first revision
    await expect(here.write('app/k', { n: 2 })).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
    });
    expect((await cold().readMetadata('app/k'))?.cas_required).toBe(true);
  });

  it('a key re-created elsewhere does not get the old key’s custom metadata back', async () => {
    await here.setMetadata('app/m', { custom_metadata: { owner: 'old-team' } });
    await here.write('app/m', { n: 1 }); // kept here
    await elsewhere.deleteMetadata('app/m');
    await elsewhere.write('app/m', { n: 'new' }); // a new entry
    await elsewhere.setMetadata('app/m', { max_versions: 5 }); // updated once
    await here.write('app/m', { n: 2 });
    const meta = await cold().readMetadata('app/m');
    expect(meta?.custom_metadata ?? {}).toEqual({});
    expect(meta?.max_versions).toBe(5);
  });
});
