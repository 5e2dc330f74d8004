import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageKinds } from '../../test/harness.js';
import { openTokenTestbed, type TokenTestbed } from '../../test/token-store.js';
import {
  ANONYMOUS_PERSON,
  type CreateTokenInput,
  type TokenEntry,
  type TokenStore,
} from './token-store.js';

// Whom a token acts for (`rootOf`, `personOf`), what an orphan records of its maker (`creator`),
// and what `revokeOrphan` leaves its children: each case where the answer would change if one
// step of the walk were skipped.
describe.each(await storageKinds())('the people behind tokens on %s', (kind) => {
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
    tokens.create({ policies: ['app'], path: 'auth/token/create', ttlSeconds: 3600, ...input });
  /** A root token that never expires, as the initial root token is. */
  const rootToken = () =>
    tokens.create({ policies: ['root'], path: 'auth/token/create', displayName: 'root' });
  const stored = async (token: string) => {
    const entry = await tokens.lookup(token);
    if (entry === undefined) throw new Error('the token is not live');
    return entry;
  };
  const idPath = (entry: TokenEntry) => `sys/token/id/${entry.hash}`;

  it('a tree acts for the token just below root, or for its top when no root made it', async () => {
    const root = await rootToken();
    const alice = await issue({ parent: root.entry, displayName: 'alice' });
    const child = await issue({ parent: alice.entry, displayName: 'helper' });
    const grandchild = await issue({ parent: child.entry, displayName: 'worker' });
    expect((await tokens.rootOf(grandchild.entry))?.hash).toBe(alice.entry.hash);
    expect((await tokens.rootOf(child.entry))?.hash).toBe(alice.entry.hash);
    expect((await tokens.rootOf(alice.entry))?.hash).toBe(alice.entry.hash);
    expect((await tokens.rootOf(root.entry))?.hash).toBe(root.entry.hash);
    expect(await tokens.personOf(grandchild.entry)).toBe('alice');
    expect(await tokens.personOf(alice.entry)).toBe('alice');
    // Root hands out people's tokens: it is nobody itself.
    expect(await tokens.personOf(root.entry)).toBeUndefined();

    // A tree no root token made acts for its top.
    const bob = await issue({ displayName: 'bob' });
    const bobsChild = await issue({ parent: bob.entry, displayName: 'bobs-helper' });
    expect((await tokens.rootOf(bob.entry))?.hash).toBe(bob.entry.hash);
    expect((await tokens.rootOf(bobsChild.entry))?.hash).toBe(bob.entry.hash);
    expect(await tokens.personOf(bobsChild.entry)).toBe('bob');
  });

  it('a tree whose walk meets a gone or dead ancestor acts for nobody in particular', async () => {
    const top = await issue({ displayName: 'carol' });
    const middle = await issue({ parent: top.entry, displayName: 'middle' });
    const leaf = await issue({ parent: middle.entry, displayName: 'leaf' });
    expect(await tokens.personOf(leaf.entry)).toBe('carol');
    // The top's revocation has started (marked): the walk stops there.
    await bed.node.barrier.write(idPath(top.entry), { ...top.entry, revoking: true });
    expect(await tokens.rootOf(leaf.entry)).toBeUndefined();
    expect(await tokens.personOf(leaf.entry)).toBe(ANONYMOUS_PERSON);
    expect(ANONYMOUS_PERSON).toBe('token');
    // The middle one is gone altogether.
    await bed.node.barrier.remove(idPath(middle.entry));
    expect(await tokens.rootOf(leaf.entry)).toBeUndefined();
    expect(await tokens.personOf(leaf.entry)).toBe('token');
  });

  it('a cycle of parents (which no creation makes) is refused, not walked for ever', async () => {
    const a = await issue({ displayName: 'a' });
    const b = await issue({ displayName: 'b' });
    const aInCycle = { ...a.entry, parentHash: b.entry.hash };
    await bed.node.barrier.write(idPath(a.entry), aInCycle);
    await bed.node.barrier.write(idPath(b.entry), { ...b.entry, parentHash: a.entry.hash });
    expect(await tokens.rootOf(aInCycle)).toBeUndefined();
    expect(await tokens.personOf(aInCycle)).toBe('token');
  });

  it('a sweep of expired tokens in a cycle of parents ends, revoking them', async () => {
    const a = await issue({ displayName: 'a', ttlSeconds: 60 });
    const b = await issue({ displayName: 'b', ttlSeconds: 60 });
    await bed.node.barrier.write(idPath(a.entry), { ...a.entry, parentHash: b.entry.hash });
    await bed.node.barrier.write(idPath(b.entry), { ...b.entry, parentHash: a.entry.hash });
    bed.clock.advance(120);
    await tokens.sweep();
    expect(await tokens.lookup(a.token)).toBeUndefined();
    expect(await tokens.lookup(b.token)).toBeUndefined();
    expect(await bed.node.barrier.read(idPath(a.entry))).toBeUndefined();
    expect(await bed.node.barrier.read(idPath(b.entry))).toBeUndefined();
  });

  it('an orphan records the person of the token that made it, unless root made it', async () => {
    const root = await rootToken();
    const dave = await issue({ parent: root.entry, displayName: 'dave' });
    const helper = await issue({ parent: dave.entry, displayName: 'helper' });
    const orphan = await issue({ parent: helper.entry, orphan: true, displayName: 'free' });
    expect(orphan.entry).toMatchObject({ parentHash: '', creator: 'dave', displayName: 'free' });
    expect((await stored(orphan.token)).creator).toBe('dave');
    expect((await tokens.rootOf(orphan.entry))?.hash).toBe(orphan.entry.hash);
    expect(await tokens.personOf(orphan.entry)).toBe('dave');
    // A linked child records nobody: it is walked to its maker instead.
    expect('creator' in helper.entry).toBe(false);
    expect('creator' in (await stored(helper.token))).toBe(false);
    // Root's orphans are people of their own.
    const byRoot = await issue({ parent: root.entry, orphan: true, displayName: 'erin' });
    expect('creator' in byRoot.entry).toBe(false);
    expect(await tokens.personOf(byRoot.entry)).toBe('erin');
    // A token made without a maker records nobody either.
    const alone = await issue({ orphan: true, displayName: 'alone' });
    expect('creator' in alone.entry).toBe(false);
  });

  it("a batch orphan carries its maker's person; a linked batch token carries none", async () => {
    const frank = await issue({ displayName: 'frank' });
    const orphan = await issue({ type: 'batch', parent: frank.entry, orphan: true });
    expect((await stored(orphan.token)).creator).toBe('frank');
    expect(await tokens.personOf(await stored(orphan.token))).toBe('frank');
    const linked = await issue({ type: 'batch', parent: frank.entry });
    const linkedEntry = await stored(linked.token);
    expect('creator' in linkedEntry).toBe(false);
    expect(linkedEntry.parentHash).toBe(frank.entry.hash);
    expect(await tokens.personOf(linkedEntry)).toBe('frank');
  });

  it("revoke-orphan leaves the children as orphans acting for the revoked token's person", async () => {
    const grace = await issue({ displayName: 'grace' });
    const first = await issue({ parent: grace.entry, displayName: 'first' });
    const second = await issue({ parent: grace.entry, displayName: 'second' });
    const grandchild = await issue({ parent: first.entry, displayName: 'grandchild' });
    await tokens.revokeOrphan(grace.token);
    expect(await tokens.lookup(grace.token)).toBeUndefined();
    expect((await bed.tokenPaths()).filter((p) => p.includes(grace.entry.hash))).toEqual([]);
    for (const child of [first, second]) {
      const entry = await stored(child.token);
      expect(entry).toMatchObject({ parentHash: '', creator: 'grace' });
      expect((await tokens.rootOf(entry))?.hash).toBe(child.entry.hash);
      expect(await tokens.personOf(entry)).toBe('grace');
    }
    // The grandchild stays linked to its own parent, and acts for the same person through it.
    const below = await stored(grandchild.token);
    expect(below.parentHash).toBe(first.entry.hash);
    expect('creator' in below).toBe(false);
    expect(await tokens.personOf(below)).toBe('grace');
    expect(await bed.node.barrier.listPaths(`sys/token/child/${first.entry.hash}/`)).toEqual([
      `sys/token/child/${first.entry.hash}/${grandchild.entry.hash}`,
    ]);
  });

  it('revoke-orphan of a root token leaves orphans that are their own people', async () => {
    const root = await rootToken();
    const child = await issue({ parent: root.entry, displayName: 'heidi' });
    await tokens.revokeOrphan(root.token);
    const entry = await stored(child.token);
    expect(entry.parentHash).toBe('');
    expect('creator' in entry).toBe(false);
    expect(await tokens.personOf(entry)).toBe('heidi');
  });

  it("revoke-orphan touches no token a stale link names that is another token's child", async () => {
    const revoked = await issue({ displayName: 'ivan' });
    const other = await issue({ displayName: 'judy' });
    const othersChild = await issue({ parent: other.entry });
    const stale = `sys/token/child/${revoked.entry.hash}/${othersChild.entry.hash}`;
    await bed.node.barrier.write(stale, {});
    await tokens.revokeOrphan(revoked.token);
    const entry = await stored(othersChild.token);
    expect(entry.parentHash).toBe(other.entry.hash);
    expect('creator' in entry).toBe(false);
    expect(await tokens.personOf(entry)).toBe('judy');
    expect(await bed.node.barrier.listPaths(`sys/token/child/${revoked.entry.hash}/`)).toEqual([]);
  });

  it('revoke-orphan of a token already gone does not bring its stranded children back', async () => {
    const parent = await issue({ displayName: 'kim' });
    const child = await issue({ parent: parent.entry });
    // A revocation that removed the parent and missed its child: the child is dead with it.
    await bed.node.barrier.remove(idPath(parent.entry));
    expect(await tokens.lookup(child.token)).toBeUndefined();
    await tokens.revokeOrphan(parent.token);
    expect(await tokens.lookup(child.token)).toBeUndefined();
    const left = await bed.node.barrier.read<TokenEntry>(idPath(child.entry));
    expect(left?.data.parentHash).toBe(parent.entry.hash);
  });

  it('revoke-orphan of an unknown or non-string value does nothing; of a batch token refuses', async () => {
    const bystander = await issue();
    const before = await bed.tokenPaths();
    await expect(tokens.revokeOrphan('cst.no-such-token')).resolves.toBeUndefined();
    await expect(tokens.revokeOrphan('')).resolves.toBeUndefined();
    await expect(tokens.revokeOrphan(['cst.x'] as unknown as string)).resolves.toBeUndefined();
    expect(await bed.tokenPaths()).toEqual(before);
    const batch = await issue({ type: 'batch' });
    await expect(tokens.revokeOrphan(batch.token)).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
      message: 'batch tokens cannot be revoked; they expire, or go with their parent',
    });
    expect((await stored(bystander.token)).accessor).toBe(bystander.entry.accessor);
  });
});
