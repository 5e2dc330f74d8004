import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageKinds } from '../../test/harness.js';
import { openTokenTestbed, type TokenTestbed } from '../../test/token-store.js';
import type { CreateTokenInput, TokenEntry, TokenStore } from './token-store.js';

// What a revocation leaves in storage: nothing of the revoked tree (entry, accessor, links to
// and from it, due entries), and everything of the rest. Checked path by path.
describe.each(await storageKinds())('token revocation on %s', (kind) => {
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
  const pathsOf = async (...entries: TokenEntry[]) =>
    (await bed.tokenPaths()).filter((p) =>
      entries.some((e) => p.includes(e.hash) || p.endsWith(`/${e.accessor}`)),
    );
  const childLink = (child: TokenEntry) => `sys/token/child/${child.parentHash}/${child.hash}`;

  it('stores a child with its link and a due entry, an orphan with neither link nor parent', async () => {
    const parent = await issue({ ttlSeconds: 3600 });
    const child = await issue({ parent: parent.entry, ttlSeconds: 600 });
    const orphan = await issue({ parent: parent.entry, orphan: true, ttlSeconds: 600 });
    expect(child.entry.parentHash).toBe(parent.entry.hash);
    expect(orphan.entry.parentHash).toBe('');
    expect(await pathsOf(child.entry)).toEqual(
      [
        childLink(child.entry),
        `sys/token/accessor/${child.entry.accessor}`,
        `sys/token/due/${String(child.entry.expireTime).padStart(12, '0')}/${child.entry.hash}`,
        `sys/token/id/${child.entry.hash}`,
      ].sort(),
    );
    expect((await pathsOf(orphan.entry)).filter((p) => p.startsWith('sys/token/child/'))).toEqual(
      [],
    );
  });

  it('revoking one child removes it and its link, and leaves its parent and siblings', async () => {
    const parent = await issue({ ttlSeconds: 3600 });
    const first = await issue({ parent: parent.entry });
    const second = await issue({ parent: parent.entry });
    await tokens.revoke(first.entry);
    expect(await pathsOf(first.entry)).toEqual([]);
    expect(await pathsOf(second.entry)).toContain(childLink(second.entry));
    expect((await tokens.authenticate(parent.token)).accessor).toBe(parent.entry.accessor);
    expect((await tokens.authenticate(second.token)).accessor).toBe(second.entry.accessor);
    // Revoking it again changes nothing.
    await tokens.revoke(first.entry);
    expect((await tokens.authenticate(second.token)).accessor).toBe(second.entry.accessor);
  });

  it('revokes a wide tree (more children than are revoked at once) down to the grandchildren', async () => {
    const parent = await issue({ ttlSeconds: 3600 });
    const children = [];
    for (let i = 0; i < 9; i++) children.push(await issue({ parent: parent.entry }));
    const grandchild = await issue({ parent: (children[8] as { entry: TokenEntry }).entry });
    const everyone = [parent, ...children, grandchild].map((t) => t.entry);
    await tokens.revokeToken(parent.token);
    expect(await pathsOf(...everyone)).toEqual([]);
  });

  it("removes a link whose child entry is already gone when the parent's tree is revoked", async () => {
    const parent = await issue({ ttlSeconds: 3600 });
    const child = await issue({ parent: parent.entry });
    await bed.node.barrier.remove(`sys/token/id/${child.entry.hash}`);
    await tokens.revoke(parent.entry);
    expect(await bed.tokenPaths()).not.toContain(childLink(child.entry));
    expect(
      (await pathsOf(parent.entry)).filter((p) => !p.endsWith(`/${child.entry.hash}`)),
    ).toEqual([]);
  });

  it('revokes a root token that never expires, by value', async () => {
    const root = await issue({ policies: ['root'] });
    expect(root.entry).toMatchObject({ expireTime: 0, renewable: false });
    expect((await pathsOf(root.entry)).some((p) => p.startsWith('sys/token/due/'))).toBe(false);
    await tokens.revokeToken(root.token);
    expect(await pathsOf(root.entry)).toEqual([]);
    await expect(tokens.authenticate(root.token)).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
    });
  });

  it('finds live tokens by accessor only, and revokes by accessor', async () => {
    const { token, entry } = await issue({ ttlSeconds: 60 });
    expect((await tokens.byAccessor(entry.accessor))?.hash).toBe(entry.hash);
    expect(await tokens.byAccessor('no-such-accessor')).toBeUndefined();
    expect(await tokens.byAccessor('')).toBeUndefined();
    expect(await tokens.byAccessor('a'.repeat(257))).toBeUndefined();
    // Unknown accessors and implausible values revoke nothing and do not fail.
    await tokens.revokeAccessor('no-such-accessor');
    await tokens.revokeAccessor('');
    await tokens.revokeToken('');
    expect((await tokens.authenticate(token)).accessor).toBe(entry.accessor);

    bed.clock.advance(60);
    expect(await tokens.byAccessor(entry.accessor)).toBeUndefined();
    await tokens.revokeAccessor(entry.accessor);
    expect(await pathsOf(entry)).toEqual([]);
  });

  it('a token presented after its expiry is revoked on the spot, tree and all, before any sweep', async () => {
    const parent = await issue({ ttlSeconds: 60 });
    const child = await issue({ parent: parent.entry });
    bed.clock.advance(59);
    expect((await tokens.lookup(parent.token))?.hash).toBe(parent.entry.hash);
    bed.clock.advance(1); // exactly at its expiry: no longer live
    expect(await tokens.lookup(parent.token)).toBeUndefined();
    expect(await pathsOf(parent.entry, child.entry)).toEqual([]);
  });

  it('renewal refuses a token that never expires, and one whose parent is gone', async () => {
    const root = await issue({ policies: ['root'] });
    await expect(tokens.renew(root.entry, 60)).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
      message: 'token is not renewable',
    });
    const parent = await issue({ ttlSeconds: 3600 });
    const child = await issue({ parent: parent.entry, ttlSeconds: 60 });
    await bed.node.barrier.remove(`sys/token/id/${parent.entry.hash}`);
    await expect(tokens.renew(child.entry, 60)).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
    });
    const gone = await issue({ ttlSeconds: 60 });
    await tokens.revoke(gone.entry);
    await expect(tokens.renew(gone.entry, 60)).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
    });
  });

  it('a renewal moves the due entry to the new expiry', async () => {
    const { entry } = await issue({ ttlSeconds: 60 });
    const renewed = await tokens.renew(entry, 600);
    const due = (await pathsOf(entry)).filter((p) => p.startsWith('sys/token/due/'));
    expect(due).toEqual([
      `sys/token/due/${String(Math.ceil(renewed.expireTime)).padStart(12, '0')}/${entry.hash}`,
    ]);
  });
});
