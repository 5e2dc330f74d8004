import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeProvider } from '../../test/fake-provider.js';
import { type CacheEntry, SecretCache } from './cache.js';

function setup(ttlMs = 300_000, staleIfErrorMs = 86_400_000) {
  const provider = fakeProvider({ TOKEN: 'value-one-abcdef' });
  const clock = { advance: (ms: number) => vi.advanceTimersByTime(ms) };
  const changes: [string, string | undefined][] = [];
  const stale: string[] = [];
  const cache = new SecretCache({
    ttlMs,
    staleIfErrorMs,
    fetch: (name) => provider.get(name),
    onChange: (name, entry: CacheEntry) => changes.push([name, entry.value]),
    onStale: (name) => stale.push(name),
  });
  return { provider, clock, cache, changes, stale };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('SecretCache', () => {
  // Freshness ends by timer and ages are read from Date.now(): both are faked.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('serves from memory within the TTL and asks again after it', async () => {
    const { provider, clock, cache } = setup();
    expect((await cache.get('TOKEN')).value).toBe('value-one-abcdef');
    clock.advance(200_000);
    await cache.get('TOKEN');
    expect(provider.calls.get('TOKEN')).toBe(1);
    expect(cache.peek('TOKEN')?.value).toBe('value-one-abcdef');
    clock.advance(100_001);
    expect(cache.peek('TOKEN')).toBeUndefined();
    await cache.get('TOKEN');
    expect(provider.calls.get('TOKEN')).toBe(2);
  });

  it('caches misses too', async () => {
    const { provider, cache } = setup();
    expect((await cache.get('NOPE')).value).toBeUndefined();
    expect((await cache.get('NOPE')).value).toBeUndefined();
    expect(provider.calls.get('NOPE')).toBe(1);
  });

  it('makes one provider call for 1,000 concurrent misses of one name', async () => {
    const { provider, cache } = setup();
    let open: () => void = () => {};
    provider.gate = new Promise((resolve) => {
      open = resolve;
    });
    const pending = Array.from({ length: 1000 }, () => cache.get('TOKEN'));
    open();
    const entries = await Promise.all(pending);
    expect(provider.calls.get('TOKEN')).toBe(1);
    expect(new Set(entries).size).toBe(1);
  });

  it('refreshes in the background near the end of the TTL, serving the cached value', async () => {
    const { provider, clock, cache, changes } = setup();
    await cache.get('TOKEN');
    provider.values.set('TOKEN', 'value-two-abcdef');
    clock.advance(250_000); // past 80 % of the TTL
    expect(cache.peek('TOKEN')).toBeUndefined();
    expect((await cache.get('TOKEN')).value).toBe('value-one-abcdef');
    await flush();
    expect(provider.calls.get('TOKEN')).toBe(2);
    expect(cache.peek('TOKEN')?.value).toBe('value-two-abcdef');
    expect(changes).toEqual([['TOKEN', 'value-two-abcdef']]);
  });

  it('serves the last good value while the provider fails, and reports it', async () => {
    const { provider, clock, cache, stale } = setup();
    await cache.get('TOKEN');
    provider.failWith = new Error('store unreachable');
    clock.advance(300_001);
    expect((await cache.get('TOKEN')).value).toBe('value-one-abcdef');
    expect(stale).toEqual(['TOKEN']);
    // While failing it does not hammer the provider: one try per retry interval.
    await cache.get('TOKEN');
    await cache.get('TOKEN');
    expect(provider.calls.get('TOKEN')).toBe(2);
    clock.advance(5_000);
    await cache.get('TOKEN');
    expect(provider.calls.get('TOKEN')).toBe(3);
    provider.failWith = undefined;
    clock.advance(5_000);
    await cache.get('TOKEN');
    expect(cache.peek('TOKEN')?.value).toBe('value-one-abcdef');
  });

  it('stops covering a failure once stale-if-error runs out, and fails without a value', async () => {
    const { provider, clock, cache } = setup(1_000, 10_000);
    await cache.get('TOKEN');
    provider.failWith = new Error('store unreachable');
    clock.advance(11_001);
    await expect(cache.get('TOKEN')).rejects.toThrow('store unreachable');
    await expect(cache.get('OTHER')).rejects.toThrow('store unreachable');
  });

  it('reports a failed background refresh and keeps the value', async () => {
    const { provider, clock, cache, stale } = setup();
    await cache.get('TOKEN');
    provider.failWith = new Error('flaky');
    clock.advance(250_000);
    expect((await cache.get('TOKEN')).value).toBe('value-one-abcdef');
    await flush();
    expect(stale).toEqual(['TOKEN']);
  });

  it('keeps the entry when a refresh finds the same value, and signals appear and disappear', async () => {
    const { provider, cache, changes } = setup();
    const first = await cache.get('TOKEN');
    expect(await cache.refresh('TOKEN')).toBe(first);
    provider.values.delete('TOKEN');
    await cache.refresh('TOKEN');
    provider.values.set('TOKEN', 'back-again-12345');
    await cache.refresh('TOKEN');
    expect(changes).toEqual([
      ['TOKEN', undefined],
      ['TOKEN', 'back-again-12345'],
    ]);
  });

  it('reloads after a call in flight, which may have read the old value', async () => {
    let stored = 'value-one-abcdef';
    let calls = 0;
    let open: () => void = () => {};
    let gate: Promise<void> | undefined;
    const changes: (string | undefined)[] = [];
    const cache = new SecretCache({
      ttlMs: 300_000,
      staleIfErrorMs: 0,
      // Reads, then is slow to answer: a change after the read is not in its answer.
      fetch: async () => {
        calls++;
        const value = stored;
        await gate;
        return value;
      },
      onChange: (_name, entry) => changes.push(entry.value),
      onStale: () => {},
    });
    await cache.get('TOKEN');
    gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const inFlight = cache.refresh('TOKEN');
    stored = 'value-two-abcdef';
    const reloaded = cache.reload('TOKEN');
    open();
    expect((await inFlight).value).toBe('value-one-abcdef');
    expect((await reloaded).value).toBe('value-two-abcdef');
    expect(calls).toBe(3);
    expect(changes).toEqual(['value-two-abcdef']);
  });

  it('asks every time with a TTL of 0, still one call per concurrent burst', async () => {
    const { provider, cache } = setup(0);
    await Promise.all([cache.get('TOKEN'), cache.get('TOKEN'), cache.get('TOKEN')]);
    await cache.get('TOKEN');
    expect(provider.calls.get('TOKEN')).toBe(2);
    expect(cache.peek('TOKEN')).toBeUndefined();
  });

  it('does not call the change listener on first load', async () => {
    const onChange = vi.fn();
    const cache = new SecretCache({
      ttlMs: 1000,
      staleIfErrorMs: 0,
      fetch: async () => 'x-value-123',
      onChange,
      onStale: () => {},
    });
    await cache.get('A');
    expect(onChange).not.toHaveBeenCalled();
  });
});
