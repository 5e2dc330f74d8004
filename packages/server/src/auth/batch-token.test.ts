import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageKinds } from '../../test/harness.js';
import { openTokenTestbed, type TokenNode, type TokenTestbed } from '../../test/token-store.js';
import { BATCH_TOKEN_PREFIX } from './batch-token.js';
import type { CreateTokenInput, TokenStore } from './token-store.js';

describe.each(await storageKinds())('batch tokens in the token store on %s', (kind) => {
  let bed: TokenTestbed;
  let other: TokenNode;
  beforeAll(async () => {
    bed = await openTokenTestbed(kind);
    // On PostgreSQL a second server on the same database; on SQLite a second store over it.
    other = kind === 'postgres' ? await bed.openNode() : bed.node;
  });
  afterAll(async () => {
    await bed.close();
  });

  const issue = (tokens: TokenStore, input: Partial<CreateTokenInput> = {}) =>
    tokens.create({ policies: ['app'], path: 'auth/token/create', ...input });
  const flip = (token: string, index: number) => {
    const bytes = Buffer.from(token.slice(BATCH_TOKEN_PREFIX.length), 'base64url');
    bytes[index] = (bytes[index] as number) ^ 0x01;
    return BATCH_TOKEN_PREFIX + bytes.toString('base64url');
  };

  it('stores nothing, and verifies on every node', async () => {
    const before = await bed.tokenPaths();
    const { token, entry } = await issue(bed.node.tokens, { type: 'batch', ttlSeconds: 600 });
    expect(token.startsWith('hvb.')).toBe(true);
    expect(entry).toMatchObject({ type: 'batch', renewable: false, accessor: '' });
    expect(await bed.tokenPaths()).toEqual(before);
    for (const node of [bed.node, other]) {
      expect(await node.tokens.authenticate(token)).toMatchObject({
        policies: ['app'],
        type: 'batch',
        expireTime: entry.expireTime,
      });
    }
  });

  it('refuses every single-bit change, a truncation, and an extension', async () => {
    const { token } = await issue(bed.node.tokens, { type: 'batch', ttlSeconds: 600 });
    const length = Buffer.from(token.slice(BATCH_TOKEN_PREFIX.length), 'base64url').length;
    for (let i = 0; i < length; i++)
      expect(await other.tokens.lookup(flip(token, i))).toBeUndefined();
    expect(await other.tokens.lookup(token.slice(0, -4))).toBeUndefined();
    expect(await other.tokens.lookup(`${token}AAAA`)).toBeUndefined();
    expect(await other.tokens.lookup(`hvb.${'A'.repeat(9000)}`)).toBeUndefined();
    await expect(other.tokens.authenticate(flip(token, 20))).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
    });
  });

  // Base64url decoding ignores a lone last character and the unused bits of the last one: each
  // such spelling opened as the same token under another audit HMAC (found by an outside probe).
  it('refuses every other spelling of the same bytes', async () => {
    const { token } = await issue(bed.node.tokens, { type: 'batch', ttlSeconds: 600 });
    const encoded = token.slice(BATCH_TOKEN_PREFIX.length);
    const bytes = Buffer.from(encoded, 'base64url');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const spellings = [...alphabet].flatMap((c) => [encoded.slice(0, -1) + c, encoded + c]);
    const aliases = spellings.filter(
      (spelling) => spelling !== encoded && Buffer.from(spelling, 'base64url').equals(bytes),
    );
    // 64 when the length is a multiple of 4 (a character added), else 15 or 3 (the last one's bits).
    expect(aliases.length).toBeGreaterThanOrEqual(3);
    for (const alias of aliases)
      expect(await other.tokens.lookup(BATCH_TOKEN_PREFIX + alias)).toBeUndefined();
    expect(await other.tokens.lookup(token)).toMatchObject({ type: 'batch' });
  });

  it("refuses a batch token sealed under another server's key", async () => {
    const foreign = await openTokenTestbed(kind);
    try {
      const { token } = await issue(foreign.node.tokens, { type: 'batch', ttlSeconds: 600 });
      expect(await bed.node.tokens.lookup(token)).toBeUndefined();
    } finally {
      await foreign.close();
    }
  });

  it('expires, is bounded by its parent, and dies with its parent', async () => {
    const parent = await issue(bed.node.tokens, { ttlSeconds: 300 });
    const admitted = await bed.node.tokens.authenticate(parent.token);
    const batch = await issue(bed.node.tokens, {
      type: 'batch',
      ttlSeconds: 3600,
      parent: admitted,
    });
    expect(batch.entry.expireTime).toBe(admitted.expireTime);
    const alone = await issue(bed.node.tokens, { type: 'batch', ttlSeconds: 100 });
    bed.clock.advance(101);
    expect(await other.tokens.lookup(alone.token)).toBeUndefined();
    expect(await other.tokens.lookup(batch.token)).toBeDefined();
    await other.tokens.revoke(await other.tokens.authenticate(parent.token));
    expect(await bed.node.tokens.lookup(batch.token)).toBeUndefined();
    expect(await other.tokens.lookup(batch.token)).toBeUndefined();
  });

  it('an orphan batch token outlives the token that made it', async () => {
    const parent = await issue(bed.node.tokens, { ttlSeconds: 300 });
    const admitted = await bed.node.tokens.authenticate(parent.token);
    const orphan = await issue(bed.node.tokens, {
      type: 'batch',
      ttlSeconds: 3600,
      parent: admitted,
      orphan: true,
    });
    await bed.node.tokens.revoke(admitted);
    expect(await other.tokens.lookup(orphan.token)).toMatchObject({ parentHash: '' });
  });

  it('cannot create tokens, renew, be revoked alone, or be root, use-limited or periodic', async () => {
    const batch = await issue(bed.node.tokens, { type: 'batch', ttlSeconds: 600 });
    const admitted = await bed.node.tokens.authenticate(batch.token);
    for (const input of [{}, { orphan: true }, { type: 'batch' as const }]) {
      await expect(issue(bed.node.tokens, { parent: admitted, ...input })).rejects.toMatchObject({
        code: 'ERR_INVALID_REQUEST',
        message: 'batch tokens cannot create tokens',
      });
    }
    await expect(bed.node.tokens.renew(admitted)).rejects.toMatchObject({
      message: 'batch tokens cannot be renewed',
    });
    await expect(bed.node.tokens.revoke(admitted)).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
    });
    await expect(bed.node.tokens.revokeToken(batch.token)).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
    });
    for (const input of [
      { policies: ['root'] },
      { numUses: 2 },
      { periodSeconds: 60 },
      { id: 'chosen-id' },
    ]) {
      await expect(issue(bed.node.tokens, { type: 'batch', ...input })).rejects.toMatchObject({
        code: 'ERR_INVALID_REQUEST',
      });
    }
  });

  it('a batch child raced against its parent revocation never works once the revocation ends', async () => {
    for (let round = 0; round < 10; round++) {
      const parent = await issue(bed.node.tokens, { ttlSeconds: 3600 });
      const admitted = await bed.node.tokens.authenticate(parent.token);
      const creations = Array.from({ length: 5 }, () =>
        issue(other.tokens, { type: 'batch', parent: admitted }).then(
          (issued) => issued.token,
          () => undefined,
        ),
      );
      const [tokens] = await Promise.all([
        Promise.all(creations),
        bed.node.tokens.revoke(admitted),
      ]);
      for (const token of tokens.filter((t): t is string => t !== undefined)) {
        expect(await bed.node.tokens.lookup(token)).toBeUndefined();
        expect(await other.tokens.lookup(token)).toBeUndefined();
      }
    }
  });

  it('creating a token (orphans included) re-checks its creator in the same transaction', async () => {
    const parent = await issue(bed.node.tokens, { ttlSeconds: 3600 });
    const admitted = await bed.node.tokens.authenticate(parent.token);
    await other.tokens.revoke(admitted);
    // Each request was admitted before the revocation; its create comes after.
    for (const input of [
      { orphan: true },
      { type: 'batch' as const },
      { type: 'batch' as const, orphan: true },
    ]) {
      await expect(issue(bed.node.tokens, { parent: admitted, ...input })).rejects.toMatchObject({
        code: 'ERR_PERMISSION_DENIED',
      });
    }
  });
});
