import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { storageKinds } from '../../test/harness.js';
import { openTokenTestbed, type TokenTestbed } from '../../test/token-store.js';
import { moveDue } from './token-entry.js';
import {
  type CreateTokenInput,
  type TokenEntry,
  type TokenStore,
  tokenStorage,
} from './token-store.js';

// The sweeper's index, entry by entry: what is due is revoked (and counted), what is not due
// is left alone, and index entries that point at nothing current are dropped once due.
describe.each(await storageKinds())('the token sweeper on %s', (kind) => {
  let bed: TokenTestbed;
  let tokens: TokenStore;
  beforeAll(async () => {
    bed = await openTokenTestbed(kind);
    tokens = bed.node.tokens;
  });
  afterAll(async () => {
    await bed.close();
  });
  beforeEach(async () => {
    // Each test starts with nothing due: earlier tests' tokens are swept away first.
    bed.clock.advance(1000 * 3600);
    await tokens.sweep();
  });

  const issue = (input: Partial<CreateTokenInput> = {}) =>
    tokens.create({ policies: ['app'], path: 'auth/token/create', ...input });
  const dueKey = (seconds: number, hash: string) =>
    `sys/token/due/${String(seconds).padStart(12, '0')}/${hash}`;
  const duePaths = async () =>
    (await bed.tokenPaths()).filter((p) => p.startsWith('sys/token/due/'));

  it('revokes a token exactly at its expiry, not a second before, and counts what it revoked', async () => {
    const first = await issue({ ttlSeconds: 60 });
    const second = await issue({ ttlSeconds: 60 });
    const later = await issue({ ttlSeconds: 120 });
    bed.clock.advance(59);
    expect(await tokens.sweep()).toBe(0);
    bed.clock.advance(1);
    expect(await tokens.sweep()).toBe(2);
    expect(await duePaths()).toEqual([dueKey(later.entry.expireTime, later.entry.hash)]);
    for (const { token } of [first, second])
      await expect(tokens.authenticate(token)).rejects.toMatchObject({
        code: 'ERR_PERMISSION_DENIED',
      });
    expect((await tokens.authenticate(later.token)).accessor).toBe(later.entry.accessor);
  });

  it('drops a due entry whose token is gone once it is due, and keeps one not due yet', async () => {
    const at = bed.clock();
    const past = dueKey(at - 5, 'a'.repeat(64));
    const future = dueKey(at + 5, 'b'.repeat(64));
    await bed.node.barrier.write(past, {});
    await bed.node.barrier.write(future, {});
    expect(await tokens.sweep()).toBe(0);
    expect(await duePaths()).toEqual([future]);
    bed.clock.advance(5);
    await tokens.sweep();
    expect(await duePaths()).toEqual([]);
  });

  it('indexes a token whose revocation started as due at 0 (12 digits), and sweeps it at once', async () => {
    const { token, entry } = await issue({ ttlSeconds: 600 });
    // The first write of a revocation, which stopped there: the mark moves the index entry.
    const marked: TokenEntry = { ...entry, revoking: true };
    await tokenStorage(bed.node.barrier).transaction(async (tx) => {
      await tx.write(`id/${entry.hash}`, marked);
      await moveDue(tx, entry, marked);
    });
    // The layout stored entries already have: 12 digits, so it sorts before every expiry.
    expect(await duePaths()).toEqual([dueKey(0, entry.hash)]);
    expect(await tokens.sweep()).toBe(1);
    expect((await bed.tokenPaths()).filter((p) => p.includes(entry.hash))).toEqual([]);
    await expect(tokens.authenticate(token)).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
    });
  });

  it('drops a stale due entry of a live token (an older expiry) and keeps its current one', async () => {
    const { token, entry } = await issue({ ttlSeconds: 600 });
    const stale = dueKey(bed.clock() - 1, entry.hash);
    await bed.node.barrier.write(stale, {});
    expect(await tokens.sweep()).toBe(0);
    expect(await duePaths()).toEqual([dueKey(entry.expireTime, entry.hash)]);
    expect((await tokens.authenticate(token)).accessor).toBe(entry.accessor);
  });
});
