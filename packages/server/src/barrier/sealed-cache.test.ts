import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openSealBed, type SealBed } from '../../test/seal-manager.js';
import type { EntryStore } from '../storage/entry-store.js';
import { type Barrier, createBarrier, type SealedReader } from './barrier.js';
import { barrierView } from './barrier-view.js';

/** `store` with its reads outside transactions counted. */
function counted(store: EntryStore): { store: EntryStore; gets: string[] } {
  const gets: string[] = [];
  return {
    gets,
    store: {
      ...store,
      changes: store.changes,
      transaction: (work) => store.transaction(work),
      get: (path) => {
        gets.push(path);
        return store.get(path);
      },
    },
  };
}

describe('the barrier’s sealed cache', () => {
  let bed: SealBed;
  let share: Buffer;
  let barrier: Barrier;
  let gets: string[];
  let cache: SealedReader;
  beforeAll(async () => {
    bed = await openSealBed();
    [share] = (await bed.seal.initialize(1, 1)) as [Buffer];
    await bed.seal.submitShare(Buffer.from(share));
  });
  // A barrier and cache of each test's own, made inside it (what a test builds in beforeAll is
  // out of reach of the mutation run's mutants).
  beforeEach(() => {
    const seen = counted(bed.store);
    gets = seen.gets;
    barrier = createBarrier(seen.store, bed.seal, { limit: 3, maxEntryBytes: 512 });
    cache = barrier.sealedCache('ver/');
  });
  afterAll(() => bed.close());

  it('serves a warm entry without reading storage, and what storage holds after a write', async () => {
    await barrier.write('ver/1/a', { v: 1 });
    gets.length = 0;
    const first = await cache.read('1/a');
    expect(first).toEqual({ data: { v: 1 }, revision: expect.any(Number) });
    expect(await cache.read('1/a')).toEqual(first);
    expect(gets).toEqual(['ver/1/a']);
    await barrier.write('ver/1/a', { v: 2 });
    expect((await cache.read('1/a'))?.data).toEqual({ v: 2 });
    await barrier.remove('ver/1/a');
    expect(await cache.read('1/a')).toBeUndefined();
    // Written again at the same path (a key deleted, then written from version 1 again).
    await barrier.transaction((tx) => tx.create('ver/1/a', { v: 3 }));
    expect((await cache.read('1/a'))?.data).toEqual({ v: 3 });
    expect(gets).toEqual(['ver/1/a', 'ver/1/a', 'ver/1/a', 'ver/1/a']);
  });

  it('decrypts on every read: what one reader changes never reaches the next', async () => {
    await barrier.write('ver/1/b', { v: { nested: 'x' } });
    const first = await cache.read<{ v: { nested: string } }>('1/b');
    (first?.data.v as { nested: string }).nested = 'changed by a caller';
    expect((await cache.read('1/b'))?.data).toEqual({ v: { nested: 'x' } });
  });

  it('keeps absence too, until the entry is written', async () => {
    gets.length = 0;
    expect(await cache.read('9/none')).toBeUndefined();
    expect(await cache.read('9/none')).toBeUndefined();
    expect(gets).toEqual(['ver/9/none']);
    await barrier.write('ver/9/none', { v: 'now' });
    expect((await cache.read('9/none'))?.data).toEqual({ v: 'now' });
  });

  it('reads an entry larger than the bound from storage every time, and holds at most the limit', async () => {
    await barrier.write('ver/1/big', { v: 'x'.repeat(600) });
    gets.length = 0;
    await cache.read('1/big');
    await cache.read('1/big');
    expect(gets).toEqual(['ver/1/big', 'ver/1/big']);
    for (const key of ['1/c', '1/d', '1/e', '1/f']) await barrier.write(`ver/${key}`, { key });
    for (const key of ['1/c', '1/d', '1/e', '1/f']) await cache.read(key);
    gets.length = 0;
    // Four read into a cache of three: the first went; the last three are kept.
    for (const key of ['1/d', '1/e', '1/f', '1/c']) await cache.read(key);
    expect(gets).toEqual(['ver/1/c']);
  });

  it('keeps an entry of exactly the bound, and none a byte larger', async () => {
    await barrier.write('ver/1/edge', { v: 'edge' });
    const stored = await bed.store.get('ver/1/edge');
    if (stored === undefined) throw new Error('the entry was not stored');
    const size = stored.value.byteLength;
    for (const [maxEntryBytes, reads] of [
      [size, ['ver/1/edge']],
      [size - 1, ['ver/1/edge', 'ver/1/edge']],
    ] as const) {
      const seen = counted(bed.store);
      const reader = createBarrier(seen.store, bed.seal, { limit: 3, maxEntryBytes }).sealedCache(
        'ver/',
      );
      await reader.read('1/edge');
      await reader.read('1/edge');
      expect(seen.gets).toEqual(reads);
    }
  });

  it('refuses a read while sealed, warm or not, and forgets everything on clear()', async () => {
    await barrier.write('ver/1/s', { v: 's' });
    await cache.read('1/s');
    await bed.seal.seal();
    await expect(Promise.resolve().then(() => cache.read('1/s'))).rejects.toMatchObject({
      code: 'ERR_SEALED',
    });
    await bed.seal.submitShare(Buffer.from(share));
    cache.clear();
    gets.length = 0;
    expect((await cache.read('1/s'))?.data).toEqual({ v: 's' });
    expect(gets).toEqual(['ver/1/s']);
  });

  it('in a view, judges the key whole and keeps within the view', async () => {
    const view = barrierView(barrier, 'kv/m/');
    const reader = view.sealedCache('ver/');
    await view.write('ver/1/k', { v: 'in view' });
    await barrier.write('kv/secret', { v: 'outside' });
    expect((await reader.read('1/k'))?.data).toEqual({ v: 'in view' });
    for (const key of ['../../secret', '1/../../../secret', '1/k\0', '1/./k'])
      await expect(reader.read(key)).rejects.toMatchObject({
        code: 'ERR_INVALID_REQUEST',
        message: 'invalid storage key',
      });
    // A leading '/' stays inside the area (the path is `kv/m/ver//kv/secret`), as the view's
    // own read of `ver//kv/secret` would.
    expect(await reader.read('/kv/secret')).toBeUndefined();
    expect(() => view.sealedCache('../')).toThrow(/inside the view/);
  });

  it('is one cache for every prefix and view, bounded as a whole', async () => {
    const other = barrier.sealedCache('other/');
    const view = barrierView(barrier, 'kv/n/').sealedCache('ver/');
    await barrier.write('other/a', { n: 1 });
    await barrier.write('kv/n/ver/1/b', { n: 2 });
    await barrier.write('ver/1/g', { n: 3 });
    await other.read('a');
    await view.read('1/b');
    await cache.read('1/g');
    gets.length = 0;
    await other.read('a');
    await view.read('1/b');
    await cache.read('1/g');
    expect(gets).toEqual([]);
    // A fourth entry (the bound is 3, for all of them): the oldest, other/a, goes.
    await barrier.write('ver/1/h', { n: 4 });
    await cache.read('1/h');
    gets.length = 0;
    await other.read('a');
    await view.read('1/b');
    expect(gets).toEqual(['other/a', 'kv/n/ver/1/b']);
  });

  it('keeps a copy of the stored bytes, not the driver’s buffer (a slice of a shared pool)', async () => {
    await barrier.write('ver/1/pool', { v: 'pooled' });
    const stored = (await bed.store.get('ver/1/pool'))?.value as Uint8Array;
    // The store hands out a slice of a larger buffer, as pg's small buffers are.
    const pool = Buffer.alloc(stored.byteLength + 64);
    Buffer.from(stored).copy(pool, 32);
    const slice = pool.subarray(32, 32 + stored.byteLength);
    const pooled = createBarrier(
      {
        ...bed.store,
        changes: bed.store.changes,
        transaction: bed.store.transaction,
        get: async () => ({ value: slice, revision: 1 }),
      },
      bed.seal,
    ).sealedCache('ver/');
    expect((await pooled.read('1/pool'))?.data).toEqual({ v: 'pooled' });
    // The pool's bytes reused for something else: the kept entry is its own.
    pool.fill(0);
    expect((await pooled.read('1/pool'))?.data).toEqual({ v: 'pooled' });
  });
});
