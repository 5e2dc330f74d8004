import { describe, expect, it } from 'vitest';
import { BoundedCache } from './bounded-cache.js';

function clocked(maxEntries: number, ttlSeconds: number) {
  let now = 0;
  const cache = new BoundedCache<string>({ maxEntries, ttlSeconds, now: () => now });
  return { cache, advance: (s: number) => (now += s * 1000) };
}

describe('BoundedCache', () => {
  it('evicts the least recently used entry when full', () => {
    const { cache } = clocked(2, 60);
    cache.set('a', '1');
    cache.set('b', '2');
    expect(cache.get('a')).toBe('1');
    cache.set('c', '3');
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('1');
    expect(cache.get('c')).toBe('3');
    expect(cache.size).toBe(2);
  });

  it('drops entries after their time to live, however often they are used', () => {
    const { cache, advance } = clocked(10, 60);
    cache.set('a', '1');
    advance(59);
    expect(cache.get('a')).toBe('1');
    advance(1);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('shares one load between concurrent misses and does not cache failures', async () => {
    const { cache } = clocked(10, 60);
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((resolve) => setImmediate(resolve));
      return `v${loads}`;
    };
    const values = await Promise.all([1, 2, 3].map(() => cache.getOrLoad('k', load)));
    expect(values).toEqual(['v1', 'v1', 'v1']);
    expect(loads).toBe(1);
    await expect(
      cache.getOrLoad('bad', () => Promise.reject(new Error('kms down'))),
    ).rejects.toThrow('kms down');
    expect(await cache.getOrLoad('bad', async () => 'ok')).toBe('ok');
  });

  it('refuses nonsensical limits', () => {
    expect(() => new BoundedCache({ maxEntries: 0, ttlSeconds: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => new BoundedCache({ maxEntries: 1, ttlSeconds: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
