import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storageKinds } from '../../test/harness.js';
import { openTokenTestbed, type TokenTestbed } from '../../test/token-store.js';
import type { Barrier } from '../barrier/barrier.js';
import {
  type CreateTokenInput,
  createTokenStore,
  type TokenEntry,
  type TokenStore,
} from './token-store.js';

// What tidy, revokeIssuedBy and listAccessors find and count, and what a revocation takes with
// it (the cubbyhole). Each test has a storage of its own, so every count is exact.
describe.each(await storageKinds())('token clean-up on %s', (kind) => {
  let bed: TokenTestbed;
  let tokens: TokenStore;
  beforeEach(async () => {
    bed = await openTokenTestbed(kind);
    tokens = bed.node.tokens;
  });
  afterEach(async () => {
    await bed.close();
  });

  const issue = (input: Partial<CreateTokenInput> = {}) =>
    tokens.create({ policies: ['app'], path: 'auth/token/create', ttlSeconds: 3600, ...input });
  const pathsOf = async (...entries: TokenEntry[]) =>
    (await bed.tokenPaths()).filter((p) =>
      entries.some((e) => p.includes(e.hash) || p.endsWith(`/${e.accessor}`)),
    );

  it('tidy sweeps, removes dangling accessors and links, revokes children of gone parents, and counts each', async () => {
    const live = await issue();
    const liveChild = await issue({ parent: live.entry });
    const expiring = await issue({ ttlSeconds: 60 });
    // Due before its parent, so the sweep revokes it on its own first; it is in its parent's
    // tree all the same, which counts once.
    const expiringChild = await issue({ parent: expiring.entry, ttlSeconds: 30 });
    const lostParent = await issue();
    // (Childless: a link below it, listed before its revocation, could be counted either way.)
    const stranded = await issue({ parent: lostParent.entry });
    // Leftovers: an accessor of a gone token, an accessor entry naming no token at all, a link
    // to a gone child, and a child whose parent entry is gone (a revocation that missed it).
    await bed.node.barrier.write('sys/token/accessor/dangling', { hash: 'f'.repeat(64) });
    await bed.node.barrier.write('sys/token/accessor/hashless', {});
    const deadLink = `sys/token/child/${live.entry.hash}/${'d'.repeat(64)}`;
    await bed.node.barrier.write(deadLink, {});
    await bed.node.barrier.remove(`sys/token/id/${lostParent.entry.hash}`);
    bed.clock.advance(60);

    expect(await tokens.tidy()).toEqual({ revoked: 1, accessors: 3, links: 2 });
    // (The third accessor is the lost parent's, whose entry was removed without it.)
    expect(await pathsOf(expiring.entry, expiringChild.entry)).toEqual([]);
    expect(await pathsOf(stranded.entry)).toEqual([]);
    // Of the lost parent only its due entry is left, which the sweeper drops once it is due.
    expect(await pathsOf(lostParent.entry)).toEqual([
      `sys/token/due/${String(lostParent.entry.expireTime).padStart(12, '0')}/${lostParent.entry.hash}`,
    ]);
    expect(await bed.node.barrier.listPaths('sys/token/accessor/dangling')).toEqual([]);
    expect(await bed.node.barrier.listPaths('sys/token/accessor/hashless')).toEqual([]);
    expect(await bed.node.barrier.listPaths(deadLink)).toEqual([]);
    // What a live token holds stays.
    expect(await pathsOf(live.entry, liveChild.entry)).toEqual(
      [
        `sys/token/accessor/${live.entry.accessor}`,
        `sys/token/accessor/${liveChild.entry.accessor}`,
        `sys/token/child/${live.entry.hash}/${liveChild.entry.hash}`,
        `sys/token/due/${String(live.entry.expireTime).padStart(12, '0')}/${live.entry.hash}`,
        `sys/token/due/${String(liveChild.entry.expireTime).padStart(12, '0')}/${liveChild.entry.hash}`,
        `sys/token/id/${live.entry.hash}`,
        `sys/token/id/${liveChild.entry.hash}`,
      ].sort(),
    );
    expect((await tokens.authenticate(liveChild.token)).accessor).toBe(liveChild.entry.accessor);
    // Nothing is left for a second run.
    expect(await tokens.tidy()).toEqual({ revoked: 0, accessors: 0, links: 0 });
  });

  it('counts a tree once however its due entries are ordered (parents and children expiring together)', async () => {
    // Each tree (parent, child, grandchild) expires in one second; their due entries sort by
    // hash, so in most trees a descendant comes first and is revoked before the top.
    const trees = [];
    for (let i = 0; i < 12; i++) {
      const parent = await issue({ ttlSeconds: 60 });
      const child = await issue({ parent: parent.entry, ttlSeconds: 60 });
      const grandchild = await issue({ parent: child.entry, ttlSeconds: 60 });
      trees.push([parent, child, grandchild]);
    }
    const alone = await issue({ ttlSeconds: 30 });
    bed.clock.advance(60);
    expect(await tokens.sweep()).toBe(13);
    expect(await pathsOf(alone.entry, ...trees.flat().map((t) => t.entry))).toEqual([]);
    expect(await tokens.sweep()).toBe(0);
  });

  it('tidy counts only what it removed itself: a leftover a concurrent revocation removed first is not counted', async () => {
    const live = await issue();
    const gone = 'e'.repeat(64);
    const accessor = 'sys/token/accessor/raced';
    const link = `sys/token/child/${live.entry.hash}/${gone}`;
    await bed.node.barrier.write(accessor, { hash: gone });
    await bed.node.barrier.write(link, {});
    // The concurrent revocation removes each leftover right after tidy found its token gone:
    // the accessor when tidy's accessor pass asks, the link when its link pass asks (removing
    // both at the first question would hide the link from the link pass's listing).
    const { barrier } = bed.node;
    const leftovers = [accessor, link];
    const racing = new Proxy(barrier, {
      get(target, property, receiver) {
        if (property !== 'revision') return Reflect.get(target, property, receiver);
        return async (path: string) => {
          const revision = await target.revision(path);
          const next = path === `sys/token/id/${gone}` ? leftovers.shift() : undefined;
          if (next !== undefined) await target.remove(next);
          return revision;
        };
      },
    }) as Barrier;
    const tidying = createTokenStore(racing, bed.clock);
    expect(await tidying.tidy()).toEqual({ revoked: 0, accessors: 0, links: 0 });
    expect(leftovers).toEqual([]);
    expect(await barrier.listPaths(accessor)).toEqual([]);
    expect(await barrier.listPaths(link)).toEqual([]);
  });

  it("revokeIssuedBy revokes the mount's stored tokens with their trees, live or not, and counts them", async () => {
    const first = await issue({ mount: 'mount-a' });
    const second = await issue({ mount: 'mount-a', ttlSeconds: 60 });
    const secondsChild = await issue({ parent: second.entry });
    const elsewhere = await issue({ mount: 'mount-b' });
    const direct = await issue();
    expect(first.entry.mount).toBe('mount-a');
    expect((await tokens.lookup(first.token))?.mount).toBe('mount-a');
    expect('mount' in direct.entry).toBe(false);
    bed.clock.advance(60); // the second has expired, not yet swept: revoked all the same
    expect(await tokens.revokeIssuedBy('mount-a')).toBe(2);
    expect(await pathsOf(first.entry, second.entry, secondsChild.entry)).toEqual([]);
    for (const t of [elsewhere, direct])
      expect((await tokens.authenticate(t.token)).accessor).toBe(t.entry.accessor);
    expect(await tokens.revokeIssuedBy('mount-a')).toBe(0);
    expect(await tokens.revokeIssuedBy('mount-c')).toBe(0);
    expect(await tokens.revokeIssuedBy('mount-b')).toBe(1);
    expect(await tokens.lookup(elsewhere.token)).toBeUndefined();
  });

  it('listAccessors lists the accessor of every stored token, sorted, batch tokens having none', async () => {
    const issued = [await issue(), await issue(), await issue({ ttlSeconds: 60 })];
    await issue({ type: 'batch' });
    const expired = issued[2] as { entry: TokenEntry };
    bed.clock.advance(60); // expired, still stored: still listed
    expect(await tokens.listAccessors()).toEqual(issued.map((t) => t.entry.accessor).sort());
    await tokens.revoke(expired.entry);
    expect(await tokens.listAccessors()).toEqual(
      issued
        .filter((t) => t !== expired)
        .map((t) => t.entry.accessor)
        .sort(),
    );
  });

  it("a revocation removes the cubbyhole of each token of the tree, and no one else's", async () => {
    const parent = await issue();
    const child = await issue({ parent: parent.entry });
    const other = await issue();
    const cubbyhole = (entry: TokenEntry) => `sys/token/cubbyhole/${entry.hash}/`;
    for (const entry of [parent.entry, child.entry, other.entry]) {
      await bed.node.barrier.write(`${cubbyhole(entry)}data/first`, { value: 'a' });
      await bed.node.barrier.write(`${cubbyhole(entry)}data/second`, { value: 'b' });
    }
    await tokens.revokeToken(parent.token);
    expect(await bed.node.barrier.listPaths(cubbyhole(parent.entry))).toEqual([]);
    expect(await bed.node.barrier.listPaths(cubbyhole(child.entry))).toEqual([]);
    expect(await bed.node.barrier.listPaths(cubbyhole(other.entry))).toEqual([
      `${cubbyhole(other.entry)}data/first`,
      `${cubbyhole(other.entry)}data/second`,
    ]);
  });
});
