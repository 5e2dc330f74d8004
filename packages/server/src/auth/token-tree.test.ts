import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageKinds } from '../../test/harness.js';
import { openTokenTestbed, type TokenNode, type TokenTestbed } from '../../test/token-store.js';
import type { CreateTokenInput, IssuedToken, TokenEntry, TokenStore } from './token-store.js';

const ROUNDS = 20;
const CHILDREN = 20;
/** A random pause of up to 30 ms: only to vary the interleaving, never asserted on. */
const jitter = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 30));

describe.each(await storageKinds())('token trees on %s', (kind) => {
  let bed: TokenTestbed;
  let nodes: TokenNode[];
  beforeAll(async () => {
    bed = await openTokenTestbed(kind);
    // On PostgreSQL, two servers on one database; SQLite is a single-server storage.
    nodes = kind === 'postgres' ? [bed.node, await bed.openNode()] : [bed.node];
  });
  afterAll(async () => {
    await bed.close();
  });

  const issue = (tokens: TokenStore, input: Partial<CreateTokenInput> = {}) =>
    tokens.create({ policies: ['app'], path: 'auth/token/create', ...input });
  const storedPathsOf = async (entries: readonly TokenEntry[]) =>
    (await bed.tokenPaths()).filter((p) => entries.some((e) => p.includes(e.hash)));

  it('use-limited tokens cannot create child tokens, orphans included', async () => {
    const tokens = bed.node.tokens;
    for (const numUses of [1, 3]) {
      const parent = await issue(tokens, { numUses });
      const admitted = await tokens.authenticate(parent.token);
      for (const orphan of [false, true]) {
        await expect(issue(tokens, { parent: admitted, orphan })).rejects.toMatchObject({
          code: 'ERR_INVALID_REQUEST',
          message: 'use-limited tokens cannot create child tokens',
        });
      }
    }
  });

  it('creating a child re-checks its parent in the same transaction', async () => {
    const tokens = bed.node.tokens;
    const parent = await issue(tokens, { ttlSeconds: 3600 });
    const admitted = await tokens.authenticate(parent.token);
    await tokens.revoke(admitted);
    // The request was admitted before the revocation; its create comes after.
    await expect(issue(tokens, { parent: admitted })).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
    });
    expect(await storedPathsOf([admitted])).toEqual([]);
  });

  it(`revoking a parent while ${CHILDREN} children are created leaves no child live (${ROUNDS} rounds)`, async () => {
    const created: IssuedToken[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const parent = await issue((nodes[0] as TokenNode).tokens, { ttlSeconds: 3600 });
      // A quarter of the creations are grandchildren, under a child of the parent.
      const middle = await issue((nodes[0] as TokenNode).tokens, { parent: parent.entry });
      const nodeOf = (i: number) => (nodes[i % nodes.length] as TokenNode).tokens;
      // Every operation starts after a random pause, so the revocation lands before, among and
      // after the creations in different rounds, on either node.
      const creations = Array.from({ length: CHILDREN }, async (_, i) => {
        await jitter();
        return issue(nodeOf(i), { parent: i % 4 === 3 ? middle.entry : parent.entry });
      });
      const revocation = jitter().then(() => nodeOf(round).revoke(parent.entry));
      const [revoked, ...results] = await Promise.allSettled([revocation, ...creations]);
      expect(revoked?.status).toBe('fulfilled');
      for (const result of results) {
        if (result.status === 'fulfilled') created.push(result.value);
        else expect(result.reason).toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
      }
      expect(await storedPathsOf([parent.entry, middle.entry])).toEqual([]);
    }
    // Whatever interleaving happened, every child that was created is gone: from storage, and
    // for authentication on every node.
    expect(await storedPathsOf(created.map((c) => c.entry))).toEqual([]);
    for (const child of created) {
      for (const { tokens } of nodes) {
        await expect(tokens.authenticate(child.token)).rejects.toMatchObject({
          code: 'ERR_PERMISSION_DENIED',
        });
      }
    }
  }, 180_000); // a safety net only: a loaded machine may take long, nothing here is timed

  it('spending the last use of a parent while it creates a child leaves no child behind', async () => {
    const tokens = bed.node.tokens;
    const parent = await issue(tokens, { numUses: 2 });
    const admitted = await tokens.authenticate(parent.token);
    const [creation] = await Promise.allSettled([
      issue(tokens, { parent: admitted }),
      tokens.authenticate(parent.token),
    ]);
    expect(creation).toMatchObject({
      status: 'rejected',
      reason: { code: 'ERR_INVALID_REQUEST' },
    });
    expect(await storedPathsOf([admitted])).toEqual([]);
  });
});
