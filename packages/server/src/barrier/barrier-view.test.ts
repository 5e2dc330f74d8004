import { describe, expect, it } from 'vitest';
import { createLocalChangeFeed } from '../storage/change-feed.js';
import type { Barrier, BarrierEntry, BarrierWriter } from './barrier.js';
import { barrierView } from './barrier-view.js';

/** A barrier over a plain map (the view only rewrites paths; encryption is not its concern). */
function mapBarrier(entries = new Map<string, unknown>()): Barrier {
  const writer: BarrierWriter = {
    read: async <T>(path: string) => {
      const data = entries.get(path);
      return data === undefined ? undefined : ({ data, revision: 1 } as BarrierEntry<T>);
    },
    readLocked: (path) => writer.read(path),
    revision: async (path) => (entries.has(path) ? 1 : undefined),
    listPaths: async (prefix) => [...entries.keys()].filter((p) => p.startsWith(prefix)).sort(),
    create: async (path, data) => {
      entries.set(path, data);
      return 1;
    },
    replace: async (path, data, revision) => {
      entries.set(path, data);
      return revision + 1;
    },
    write: async (path, data) => {
      entries.set(path, data);
    },
    remove: async (path) => {
      entries.delete(path);
    },
  };
  return {
    ...writer,
    transaction: (work) => work(writer),
    changes: createLocalChangeFeed(),
    // Nothing kept: every read asks the map (sealed-cache.test.ts tests the real one).
    sealedCache: (prefix: string) => ({
      read: <T>(key: string) => writer.read<T>(prefix + key),
      clear: () => {},
    }),
  };
}

describe('barrierView', () => {
  it('reads and writes under its prefix, with keys relative to it', async () => {
    const entries = new Map<string, unknown>([['transit/policy/a', { n: 1 }]]);
    const view = barrierView(mapBarrier(entries), 'transit/');
    expect((await view.read('policy/a'))?.data).toEqual({ n: 1 });
    await view.write('policy/b', { n: 2 });
    expect(entries.get('transit/policy/b')).toEqual({ n: 2 });
    await view.transaction((tx) => tx.remove('policy/a'));
    expect(entries.has('transit/policy/a')).toBe(false);
  });

  it('lists keys relative to its prefix, and nothing outside it', async () => {
    const entries = new Map<string, unknown>([
      ['transit/policy/a', 1],
      ['transit/usage/a/1', 2],
      ['transitx/policy/b', 3],
      ['kv/secret/meta/c', 4],
    ]);
    const view = barrierView(mapBarrier(entries), 'transit/');
    expect(await view.listPaths('')).toEqual(['policy/a', 'usage/a/1']);
    expect(await view.listPaths('policy/')).toEqual(['policy/a']);
    const tx = await view.transaction(async (t) => t.listPaths('usage/'));
    expect(tx).toEqual(['usage/a/1']);
  });

  it('refuses keys that climb out of its prefix or are absolute, before storage is asked', async () => {
    const entries = new Map<string, unknown>([['kv/secret/meta/c', 'outside']]);
    const barrier = mapBarrier(entries);
    const view = barrierView(barrier, 'transit/');
    for (const key of [
      '../kv/secret/meta/c',
      'policy/../../kv/x',
      '/kv/secret/meta/c',
      '.',
      'a/./b',
      'a/..',
      // Lone surrogates: encoded, each is U+FFFD, so they would alias another key.
      'a\ud800',
      '\udc00b',
      'a\udfff\ud800b',
    ]) {
      // The refusal names no part of the key (keys hold request values).
      await expect(view.read(key)).rejects.toMatchObject({
        code: 'ERR_INVALID_REQUEST',
        message: 'invalid storage key',
      });
      await expect(view.write(key, 1)).rejects.toMatchObject({ code: 'ERR_INVALID_REQUEST' });
      await expect(view.listPaths(key)).rejects.toMatchObject({ code: 'ERR_INVALID_REQUEST' });
      await expect(view.remove(key)).rejects.toMatchObject({ code: 'ERR_INVALID_REQUEST' });
      await expect(view.transaction((tx) => tx.create(key, 1))).rejects.toMatchObject({
        code: 'ERR_INVALID_REQUEST',
      });
    }
    expect([...entries.keys()]).toEqual(['kv/secret/meta/c']);
    // Dots inside a segment are ordinary characters.
    await view.write('policy/a..b', 1);
    expect(entries.has('transit/policy/a..b')).toBe(true);
    // So are characters outside the Basic Multilingual Plane (a well-formed surrogate pair).
    await view.write('policy/😀', 1);
    expect(entries.has('transit/policy/😀')).toBe(true);
  });

  it('refuses a prefix that is not a folder', () => {
    const barrier = mapBarrier();
    for (const prefix of ['', 'transit', '/transit/', '../x/']) {
      expect(() => barrierView(barrier, prefix)).toThrow(
        `a barrier view needs a prefix ending in '/' (got ${JSON.stringify(prefix)})`,
      );
    }
  });
});
