import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { storageKinds } from '../../test/harness.js';
import { openTokenTestbed, type TokenTestbed } from '../../test/token-store.js';
import type { Barrier } from '../barrier/barrier.js';
import { createTokenStore, type TokenStore, type TokenStoreOptions } from './token-store.js';

// The store's options, each seen from outside: the cache counter (what the entry cache serves
// and when it forgets), the auth mount check of batch tokens, and the sweeper's timer.
describe.each(await storageKinds())('token store options on %s', (kind) => {
  let bed: TokenTestbed;
  beforeAll(async () => {
    bed = await openTokenTestbed(kind);
  });
  afterAll(async () => {
    await bed.close();
  });

  /** Another store over the first node's barrier (and its change feed), with `options`. */
  const storeWith = (options: TokenStoreOptions): TokenStore =>
    createTokenStore(bed.node.barrier, bed.clock, options);

  it('counts a miss when an entry is read from storage and a hit when the cache serves it', async () => {
    const counts = { hits: 0, misses: 0 };
    const tokens = storeWith({
      cacheCounter: { hit: () => void counts.hits++, miss: () => void counts.misses++ },
    });
    const parent = await tokens.create({ policies: ['app'], path: 'auth/token/create' });
    const { token } = await tokens.create({
      policies: ['app'],
      path: 'auth/token/create',
      numUses: 5,
      parent: { ...parent.entry },
    });
    // Until the change feed is live (PostgreSQL's listens first) nothing is kept: wait for a hit.
    await vi.waitFor(async () => {
      await tokens.lookup(token);
      expect(counts.hits).toBeGreaterThan(0);
    });
    // Now both the token and its parent (walked as its ancestor) come from the cache.
    const served = { ...counts };
    expect((await tokens.lookup(token))?.numUses).toBe(5);
    expect(counts).toEqual({ hits: served.hits + 2, misses: served.misses });

    // A spent use writes the entry: the feed drops it, the next lookup reads it again.
    await tokens.authenticate(token);
    await vi.waitFor(async () => {
      expect((await tokens.lookup(token))?.numUses).toBe(4);
    });
    // A seal forgets every cached entry (and the key): the next lookup misses on both.
    await vi.waitFor(async () => {
      const before = { ...counts };
      await tokens.lookup(token);
      expect(counts).toEqual({ hits: before.hits + 2, misses: before.misses });
    });
    tokens.clear();
    const cleared = { ...counts };
    expect((await tokens.lookup(token))?.numUses).toBe(4);
    expect(counts).toEqual({ hits: cleared.hits, misses: cleared.misses + 2 });
  });

  it("accepts a login's batch token only while its auth mount is live, and fails closed without the check", async () => {
    const live = new Set(['mount-a']);
    const tokens = storeWith({ authMountLive: async (uuid) => live.has(uuid) });
    const batch = await tokens.create({
      policies: ['app'],
      path: 'auth/approle/login',
      type: 'batch',
      mount: 'mount-a',
    });
    expect(batch.entry.mount).toBe('mount-a');
    expect((await tokens.lookup(batch.token))?.mount).toBe('mount-a');
    expect((await tokens.authenticate(batch.token)).path).toBe('auth/approle/login');
    // A store not told how to ask refuses it rather than throwing or accepting it.
    expect(await bed.node.tokens.lookup(batch.token)).toBeUndefined();
    await expect(bed.node.tokens.authenticate(batch.token)).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
    });
    live.delete('mount-a');
    expect(await tokens.lookup(batch.token)).toBeUndefined();
    await expect(tokens.authenticate(batch.token)).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
    });
    // A stored token of the mount is not asked about: revokeIssuedBy removes those.
    const service = await tokens.create({
      policies: ['app'],
      path: 'auth/approle/login',
      mount: 'mount-a',
    });
    expect((await tokens.lookup(service.token))?.mount).toBe('mount-a');
  });

  it('sweeps every sweepIntervalMs once started, and reports a failed sweep', async () => {
    const errors: unknown[] = [];
    const tokens = storeWith({ sweepIntervalMs: 10, onSweepError: (err) => errors.push(err) });
    const { entry } = await tokens.create({
      policies: ['app'],
      path: 'auth/token/create',
      ttlSeconds: 60,
    });
    bed.clock.advance(60);
    tokens.startSweeping();
    try {
      await vi.waitFor(async () => {
        expect((await bed.tokenPaths()).filter((p) => p.includes(entry.hash))).toEqual([]);
      });
      expect(errors).toEqual([]);
      // An entry no sweep can read (not a token entry at all): the sweep fails, and says so.
      const broken = 'c'.repeat(64);
      await bed.node.barrier.write(`sys/token/id/${broken}`, null);
      await bed.node.barrier.write(`sys/token/due/000000000001/${broken}`, {});
      await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0));
      expect(errors[0]).toBeInstanceOf(TypeError);
      await bed.node.barrier.remove(`sys/token/due/000000000001/${broken}`);
      await bed.node.barrier.remove(`sys/token/id/${broken}`);
    } finally {
      tokens.stopSweeping();
    }
  });

  it('keeps real time, in seconds, when given no clock', async () => {
    const tokens = createTokenStore(bed.node.barrier);
    const before = Math.floor(Date.now() / 1000);
    const { entry } = await tokens.create({
      policies: ['app'],
      path: 'auth/token/create',
      ttlSeconds: 600,
    });
    const after = Date.now() / 1000;
    expect(entry.creationTime).toBeGreaterThanOrEqual(before);
    expect(entry.creationTime).toBeLessThanOrEqual(after);
    // Created between `before` and `after`, for 600 seconds (the creation time is whole seconds).
    expect(entry.expireTime).toBeGreaterThanOrEqual(before + 600);
    expect(entry.expireTime).toBeLessThanOrEqual(after + 600);
  });

  it('refuses, naming the key and no value, when storage cannot give back the HMAC key it stored', async () => {
    // A storage that takes the key but reads it back as absent, on any node.
    const losing = new Proxy(bed.node.barrier, {
      get(target, property, receiver) {
        if (property !== 'read') return Reflect.get(target, property, receiver);
        return (path: string) =>
          path === 'core/token-hmac-key' ? Promise.resolve(undefined) : target.read(path);
      },
    }) as Barrier;
    const tokens = createTokenStore(losing, bed.clock);
    await expect(tokens.create({ policies: ['app'], path: 'auth/token/create' })).rejects.toThrow(
      new Error('the key at token-hmac-key could not be stored'),
    );
  });
});
