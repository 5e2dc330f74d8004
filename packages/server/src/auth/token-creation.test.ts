import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageKinds } from '../../test/harness.js';
import { openTokenTestbed, type TokenTestbed } from '../../test/token-store.js';
import { TOKEN_PREFIX, type TokenStore } from './token-store.js';

// What a created entry holds, field by field, and how chosen ids and the hashing key behave.
describe.each(await storageKinds())('token creation on %s', (kind) => {
  let bed: TokenTestbed;
  let tokens: TokenStore;
  beforeAll(async () => {
    bed = await openTokenTestbed(kind);
    tokens = bed.node.tokens;
  });
  afterAll(async () => {
    await bed.close();
  });

  it('stores sorted unique policies, the defaults for name, meta and uses, and the path', async () => {
    const { token, entry } = await tokens.create({
      policies: ['zeta', 'alpha', 'zeta', 'mid'],
      path: 'auth/approle/login',
      ttlSeconds: 60,
    });
    expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
    expect(token).toMatch(/^cst\.[0-9A-Za-z]{32}$/);
    expect(entry.accessor).toMatch(/^[0-9A-Za-z]{24}$/);
    expect(entry).toMatchObject({
      policies: ['alpha', 'mid', 'zeta'],
      displayName: 'token',
      meta: {},
      numUses: 0,
      parentHash: '',
      path: 'auth/approle/login',
    });
    expect(await tokens.lookup(token)).toEqual(entry);
  });

  it('keeps a given display name and metadata', async () => {
    const { entry } = await tokens.create({
      policies: ['app'],
      path: 'auth/token/create',
      displayName: 'ci-runner',
      meta: { team: 'ops' },
    });
    expect(entry).toMatchObject({ displayName: 'ci-runner', meta: { team: 'ops' } });
  });

  it("refuses a chosen id that a token already has, in Vault's words, and keeps the first", async () => {
    const first = await tokens.create({ policies: ['a'], path: 'auth/token/create', id: 'dup-id' });
    await expect(
      tokens.create({ policies: ['b'], path: 'auth/token/create', id: 'dup-id' }),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
      message: 'cannot create a token with a duplicate ID',
    });
    expect((await tokens.lookup('dup-id'))?.accessor).toBe(first.entry.accessor);
  });

  it('refuses a chosen id no request header could carry unchanged, storing nothing', async () => {
    const before = await tokens.listAccessors();
    const unusable = [
      '',
      'x'.repeat(257),
      // Node trims spaces and tabs at a header value's ends: these would present as `svc`.
      ' svc',
      'svc ',
      '\tsvc',
      'a b',
      // Refused by the HTTP parser in a header.
      'a\nb',
      'a\rb',
      'a\u0000b',
      'a\u007fb',
      // Read as Latin-1 from a header (UTF-8 sent becomes other characters), or not sendable.
      'café',
      '\u00a0svc',
      'hvb\uff0ex',
      '\u{1f600}',
      'a\ud800b',
    ];
    for (const id of unusable)
      await expect(
        tokens.create({ policies: ['a'], path: 'auth/token/create', id }),
      ).rejects.toMatchObject({
        code: 'ERR_INVALID_REQUEST',
        message:
          'a chosen token id must be 1 to 256 visible ASCII characters (no spaces or control characters: a request header could not carry it unchanged)',
      });
    expect(await tokens.listAccessors()).toEqual(before);
    const longest = 'y'.repeat(256);
    const { entry } = await tokens.create({
      policies: ['a'],
      path: 'auth/token/create',
      id: longest,
    });
    expect((await tokens.lookup(longest))?.accessor).toBe(entry.accessor);
  });

  it('hashes tokens with one key shared by every node, kept behind the barrier', async () => {
    const { token, entry } = await tokens.create({ policies: ['a'], path: 'auth/token/create' });
    const other = await bed.openNode();
    expect((await other.tokens.lookup(token))?.accessor).toBe(entry.accessor);
    expect((await other.tokens.hmacKey()).export()).toEqual((await tokens.hmacKey()).export());
    // After clear() (a seal) the key is read again from storage: the same key.
    tokens.clear();
    expect((await tokens.lookup(token))?.accessor).toBe(entry.accessor);
    expect(entry.hash).not.toContain(token.slice(TOKEN_PREFIX.length));
  });
});
