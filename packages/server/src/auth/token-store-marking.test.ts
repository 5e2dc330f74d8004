import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageKinds } from '../../test/harness.js';
import { openTokenTestbed, type TokenTestbed } from '../../test/token-store.js';
import { moveDue } from './token-entry.js';
import {
  type CreateTokenInput,
  type IssuedToken,
  type TokenEntry,
  type TokenStore,
  tokenStorage,
} from './token-store.js';

const DEPTH = 30;

// A revocation's first write marks the token (see NOTES.md): from then on, while its tree is
// still being taken apart, it creates nothing and nothing below it is accepted.
describe.each(await storageKinds())('the revocation mark on %s', (kind) => {
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

  it('is written before the tree is revoked, and refuses children and the tree meanwhile', async () => {
    const top = await issue();
    // A chain: its revocation goes level by level, so the top stays marked for a while.
    const chain: IssuedToken[] = [top];
    for (let i = 0; i < DEPTH; i++)
      chain.push(await issue({ parent: (chain[i] as IssuedToken).entry }));
    const bottom = chain[DEPTH] as IssuedToken;
    const revocation = tokens.revoke(top.entry);
    // Read the top's entry until it is marked; it must not vanish unmarked.
    let seen: TokenEntry | undefined;
    for (;;) {
      seen = (await bed.node.barrier.read<TokenEntry>(`sys/token/id/${top.entry.hash}`))?.data;
      if (seen === undefined || seen.revoking === true) break;
    }
    expect(seen?.revoking).toBe(true);
    await expect(issue({ parent: top.entry })).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
    });
    await expect(issue({ parent: top.entry, orphan: true })).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
    });
    await expect(tokens.authenticate(bottom.token)).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
    });
    await revocation;
    const hashes = chain.map((t) => t.entry.hash);
    expect((await bed.tokenPaths()).filter((p) => hashes.some((h) => p.includes(h)))).toEqual([]);
  });

  it('a lookup leaves a token found marked to the revocation under way, or to the sweeper', async () => {
    const parent = await issue();
    const child = await issue({ parent: parent.entry });
    // A revocation on another node has marked it (its first write) and is revoking its children.
    const marked: TokenEntry = { ...parent.entry, revoking: true };
    await tokenStorage(bed.node.barrier).transaction(async (tx) => {
      await tx.write(`id/${parent.entry.hash}`, marked);
      await moveDue(tx, parent.entry, marked);
    });
    expect(await tokens.lookup(parent.token)).toBeUndefined();
    expect(await tokens.lookup(child.token)).toBeUndefined();
    const held = [parent.entry.hash, child.entry.hash];
    const stored = async () =>
      (await bed.tokenPaths()).filter((p) => held.some((h) => p.includes(h))).length;
    // The entry and due entry of each, and the link: not taken over by the lookup.
    expect(await stored()).toBe(5);
    expect(await tokens.sweep()).toBe(1);
    expect(await stored()).toBe(0);
  });
});
