import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageKinds } from '../../test/harness.js';
import { openTokenTestbed, type TokenTestbed } from '../../test/token-store.js';
import type { CreateTokenInput, TokenStore } from './token-store.js';

// num_uses through the store: each authentication spends one use, the last one revokes the
// token (its entry, accessor, link and due entry), and a stored count decides, never a copy.
describe.each(await storageKinds())('limited-use tokens on %s', (kind) => {
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
  const denied = { code: 'ERR_PERMISSION_DENIED' };
  const storedPathsOf = async (hash: string, accessor: string) =>
    (await bed.tokenPaths()).filter((p) => p.includes(hash) || p.endsWith(accessor));

  it('counts down one use per authentication and is gone after the last', async () => {
    const { token, entry } = await issue({ numUses: 3, ttlSeconds: 3600 });
    expect(entry.numUses).toBe(3);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      seen.push((await tokens.lookup(token))?.numUses ?? -1);
      expect((await tokens.authenticate(token)).accessor).toBe(entry.accessor);
    }
    expect(seen).toEqual([3, 2, 1]);
    await expect(tokens.authenticate(token)).rejects.toMatchObject(denied);
    expect(await tokens.lookup(token)).toBeUndefined();
    expect(await storedPathsOf(entry.hash, entry.accessor)).toEqual([]);
  });

  it('a single-use token works once; a lookup spends nothing', async () => {
    const { token, entry } = await issue({ numUses: 1 });
    expect((await tokens.lookup(token))?.numUses).toBe(1);
    expect((await tokens.lookup(token))?.numUses).toBe(1);
    expect((await tokens.authenticate(token)).numUses).toBe(1);
    await expect(tokens.authenticate(token)).rejects.toMatchObject(denied);
    expect(await storedPathsOf(entry.hash, entry.accessor)).toEqual([]);
  });

  it('an unlimited token (0 uses) stays unlimited', async () => {
    const { token } = await issue();
    for (let i = 0; i < 3; i++) expect((await tokens.authenticate(token)).numUses).toBe(0);
    expect((await tokens.lookup(token))?.numUses).toBe(0);
  });

  it('refuses a token stored with -1 uses (the old mark of a spent token)', async () => {
    const { token, entry } = await issue();
    await bed.node.barrier.write(`sys/token/id/${entry.hash}`, { ...entry, numUses: -1 });
    expect(await tokens.lookup(token)).toBeUndefined();
    await expect(tokens.authenticate(token)).rejects.toMatchObject(denied);
  });

  it('refuses a child of a parent whose stored entry is use-limited, whatever the copy says', async () => {
    const parent = await issue({ numUses: 2 });
    const admitted = await tokens.authenticate(parent.token);
    // The request's copy claims unlimited uses; the stored parent is what counts.
    await expect(issue({ parent: { ...admitted, numUses: 0 } })).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
      message: 'use-limited tokens cannot create child tokens',
    });
    expect((await bed.tokenPaths()).filter((p) => p.includes(`child/${admitted.hash}`))).toEqual(
      [],
    );
  });

  it('refuses an absent token and a token of implausible length, and takes one of 256 chars', async () => {
    await expect(tokens.authenticate(undefined)).rejects.toMatchObject(denied);
    await expect(tokens.authenticate('')).rejects.toMatchObject(denied);
    const longest = `app.${'a'.repeat(252)}`;
    const tooLong = `app.${'b'.repeat(253)}`;
    await issue({ id: longest });
    // One longer than any request carries is refused at creation; stored anyway, never found.
    await bed.plantToken(tooLong, (await issue()).entry);
    expect((await tokens.authenticate(longest)).path).toBe('auth/token/create');
    await expect(tokens.authenticate(tooLong)).rejects.toMatchObject(denied);
    expect(await tokens.lookup(tooLong)).toBeUndefined();
  });
});
