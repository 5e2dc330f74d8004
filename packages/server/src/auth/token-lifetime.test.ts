import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageKinds } from '../../test/harness.js';
import { openTokenTestbed, type TokenTestbed } from '../../test/token-store.js';
import { moveDue } from './token-entry.js';
import {
  type CreateTokenInput,
  MAX_TOKEN_TTL_SECONDS,
  type TokenEntry,
  type TokenStore,
  tokenStorage,
} from './token-store.js';

const HOUR = 3600;
const CENTURY = 100 * 365 * 24 * HOUR;

// Each bound is checked where it alone decides the outcome, so removing or weakening any one
// of them (system maximum, explicit maximum, parent expiry, parent maximum, renewability)
// fails a test. The clock is the store's own: nothing here waits for real time to pass.
describe.each(await storageKinds())('token lifetimes on %s', (kind) => {
  let bed: TokenTestbed;
  let tokens: TokenStore;
  beforeAll(async () => {
    bed = await openTokenTestbed(kind);
    tokens = bed.node.tokens;
  });
  afterAll(async () => {
    await bed.close();
  });

  const issue = (input: Partial<CreateTokenInput> = {}) =>
    tokens.create({ policies: ['app'], path: 'auth/token/create', ...input });
  const left = (entry: TokenEntry) => entry.expireTime - bed.clock();
  const maxLeft = (entry: TokenEntry) => entry.maxExpireTime - bed.clock();

  it('caps a requested TTL at the 768 h system maximum', async () => {
    const { entry } = await issue({ ttlSeconds: 1000 * HOUR });
    expect(left(entry)).toBe(MAX_TOKEN_TTL_SECONDS);
    expect(MAX_TOKEN_TTL_SECONDS).toBe(768 * HOUR);
  });

  it('caps explicit_max_ttl at the system maximum, so no renewal reaches past 768 h', async () => {
    const { token, entry } = await issue({ ttlSeconds: HOUR, explicitMaxTtlSeconds: CENTURY });
    expect(maxLeft(entry)).toBe(MAX_TOKEN_TTL_SECONDS);
    bed.clock.advance(HOUR / 2);
    const renewed = await tokens.renew(entry, CENTURY);
    expect(left(renewed)).toBe(MAX_TOKEN_TTL_SECONDS - HOUR / 2);
    expect((await tokens.lookup(token))?.expireTime).toBe(renewed.expireTime);
  });

  it('bounds the TTL by explicit_max_ttl, with or without a requested TTL', async () => {
    expect(left((await issue({ explicitMaxTtlSeconds: 600 })).entry)).toBe(600);
    expect(left((await issue({ ttlSeconds: HOUR, explicitMaxTtlSeconds: 600 })).entry)).toBe(600);
  });

  it('renews by the increment, never past the maximum, even for a huge increment', async () => {
    const { entry } = await issue({ ttlSeconds: 600, explicitMaxTtlSeconds: HOUR });
    bed.clock.advance(300);
    expect(left(await tokens.renew(entry, 900))).toBe(900);
    expect(left(await tokens.renew(entry, CENTURY))).toBe(HOUR - 300);
    // Without an increment the token gets its creation TTL again.
    expect(left(await tokens.renew(entry))).toBe(600);
  });

  it('caps renewal of a token stored before the caps existed at 768 h from its creation', async () => {
    const { token, entry } = await issue({ ttlSeconds: HOUR });
    // An entry written by the old code, whose explicit maximum was not capped.
    await bed.node.barrier.write(`sys/token/id/${entry.hash}`, {
      ...entry,
      maxExpireTime: entry.creationTime + CENTURY,
    });
    const renewed = await tokens.renew((await tokens.lookup(token)) as TokenEntry, CENTURY);
    // creationTime is floored: the bound allows for the second it dropped.
    expect(renewed.expireTime).toBe(entry.creationTime + 1 + MAX_TOKEN_TTL_SECONDS);
  });

  it("caps a child's TTL and maximum at its parent's expiry and maximum", async () => {
    const parent = (await issue({ ttlSeconds: 600, explicitMaxTtlSeconds: HOUR })).entry;
    bed.clock.advance(60);
    const child = (await issue({ parent, ttlSeconds: 10 * HOUR, explicitMaxTtlSeconds: CENTURY }))
      .entry;
    expect(child.expireTime).toBe(parent.expireTime);
    expect(child.maxExpireTime).toBe(parent.maxExpireTime);
    // Without a requested TTL the default (768 h) is capped the same way.
    expect((await issue({ parent })).entry.expireTime).toBe(parent.expireTime);
  });

  it("renews a child only up to its parent's current expiry", async () => {
    const parent = (await issue({ ttlSeconds: 600, explicitMaxTtlSeconds: 2 * HOUR })).entry;
    const child = (await issue({ parent, ttlSeconds: 600 })).entry;
    bed.clock.advance(300);
    expect((await tokens.renew(child, HOUR)).expireTime).toBe(parent.expireTime);
    // The parent renews; the child may then follow it, but no further.
    const renewedParent = await tokens.renew(parent, HOUR);
    expect(left(renewedParent)).toBe(HOUR);
    expect((await tokens.renew(child, 5 * HOUR)).expireTime).toBe(renewedParent.expireTime);
    expect((await tokens.renew(child, 600)).expireTime).toBe(bed.clock() + 600);
  });

  it("caps a child's renewal at its parent's maximum when the parent has not renewed", async () => {
    const parent = (await issue({ ttlSeconds: HOUR, explicitMaxTtlSeconds: HOUR })).entry;
    const child = (await issue({ parent, ttlSeconds: 600 })).entry;
    expect(child.maxExpireTime).toBe(parent.maxExpireTime);
    bed.clock.advance(60);
    expect((await tokens.renew(child, 2 * HOUR)).expireTime).toBe(parent.maxExpireTime);
  });

  it('a non-renewable parent mints only non-renewable children that die with it', async () => {
    const parent = await issue({ ttlSeconds: 30, renewable: false });
    const child = await issue({ parent: parent.entry, renewable: true, ttlSeconds: HOUR });
    expect(child.entry.renewable).toBe(false);
    expect(left(child.entry)).toBe(30);
    expect(child.entry.maxExpireTime).toBe(parent.entry.expireTime);
    await expect(tokens.renew(child.entry, CENTURY)).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
    });
    bed.clock.advance(31);
    await expect(tokens.authenticate(child.token)).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
    });
    await expect(tokens.authenticate(parent.token)).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
    });
  });

  it('refuses a token whose parent or grandparent is gone or expired, before any sweep', async () => {
    const grandparent = await issue({ ttlSeconds: HOUR });
    const parent = await issue({ parent: grandparent.entry });
    const child = await issue({ parent: parent.entry });
    expect((await tokens.authenticate(child.token)).accessor).toBe(child.entry.accessor);
    // A revocation that missed this subtree: the grandparent entry is gone, the rest is not.
    await bed.node.barrier.remove(`sys/token/id/${grandparent.entry.hash}`);
    for (const { token } of [parent, child]) {
      await expect(tokens.authenticate(token)).rejects.toMatchObject({
        code: 'ERR_PERMISSION_DENIED',
      });
      expect(await tokens.lookup(token)).toBeUndefined();
    }
    expect(await tokens.byAccessor(child.entry.accessor)).toBeUndefined();

    // A revocation under way (or interrupted): the parent is marked, its children still stored.
    const marked = await issue({ ttlSeconds: HOUR });
    const underMarked = await issue({ parent: marked.entry });
    await bed.node.barrier.write(`sys/token/id/${marked.entry.hash}`, {
      ...marked.entry,
      revoking: true,
    });
    await expect(tokens.authenticate(underMarked.token)).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
    });

    // An entry from before the caps: the child outlives its (expired) parent.
    const shortParent = await issue({ ttlSeconds: 60 });
    const longChild = await issue({ parent: shortParent.entry });
    await bed.node.barrier.write(`sys/token/id/${longChild.entry.hash}`, {
      ...longChild.entry,
      expireTime: bed.clock() + HOUR,
    });
    bed.clock.advance(61);
    await expect(tokens.authenticate(longChild.token)).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
    });
  });

  it('the sweeper revokes expired tokens and their trees without anyone presenting them', async () => {
    const survivor = await issue({ ttlSeconds: 2 * HOUR });
    const parent = await issue({ ttlSeconds: 60 });
    const child = await issue({ parent: parent.entry });
    const grandchild = await issue({ parent: child.entry });
    const orphanOfParent = await issue({ parent: parent.entry, orphan: true, ttlSeconds: HOUR });
    const gone = [parent, child, grandchild].map((t) => t.entry.hash);
    const stored = async () =>
      (await bed.tokenPaths()).filter((p) => gone.some((h) => p.includes(h)));
    expect(await stored()).not.toEqual([]);
    await tokens.sweep();
    expect(await stored()).not.toEqual([]); // nothing is due yet
    bed.clock.advance(61);
    await tokens.sweep();
    expect(await stored()).toEqual([]);
    for (const t of [survivor, orphanOfParent])
      expect((await tokens.authenticate(t.token)).accessor).toBe(t.entry.accessor);
  });

  it('the sweeper finishes a revocation that stopped after marking the token', async () => {
    const parent = await issue({ ttlSeconds: HOUR });
    const child = await issue({ parent: parent.entry });
    // What a revocation writes first (in one transaction) before it was interrupted.
    const marked: TokenEntry = { ...parent.entry, revoking: true };
    await tokenStorage(bed.node.barrier).transaction(async (tx) => {
      await tx.write(`id/${parent.entry.hash}`, marked);
      await moveDue(tx, parent.entry, marked);
    });
    await tokens.sweep();
    const paths = await bed.tokenPaths();
    expect(paths.filter((p) => [parent, child].some((t) => p.includes(t.entry.hash)))).toEqual([]);
  });

  it('the sweeper follows renewals: a renewed token is swept at its new expiry only', async () => {
    const { token, entry } = await issue({ ttlSeconds: 60 });
    bed.clock.advance(30);
    await tokens.renew(entry, 600);
    bed.clock.advance(60);
    await tokens.sweep();
    expect((await tokens.authenticate(token)).accessor).toBe(entry.accessor);
    bed.clock.advance(600);
    await tokens.sweep();
    expect((await bed.tokenPaths()).filter((p) => p.includes(entry.hash))).toEqual([]);
  });
});
