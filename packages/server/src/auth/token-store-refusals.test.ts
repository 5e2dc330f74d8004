import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageKinds } from '../../test/harness.js';
import { openTokenTestbed, type TokenTestbed } from '../../test/token-store.js';
import { MAX_BATCH_TOKEN_LENGTH } from './batch-token.js';
import {
  type CreateTokenInput,
  MAX_TOKEN_TTL_SECONDS,
  type TokenEntry,
  type TokenStore,
} from './token-store.js';

const HOUR = 3600;
const CENTURY = 100 * 365 * 24 * HOUR;
const denied = { code: 'ERR_PERMISSION_DENIED' };
const invalid = (message: string) => ({ code: 'ERR_INVALID_REQUEST', message });

// Each refusal of the store in its exact words, the fields a creation records (or leaves out),
// and values that are not tokens at all.
describe.each(await storageKinds())('token store refusals and fields on %s', (kind) => {
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
  const stored = async (token: string) => {
    const entry = await tokens.lookup(token);
    if (entry === undefined) throw new Error('the token is not live');
    return entry;
  };

  it('records the explicit maximum asked for (capped), 0 when none, for service and batch tokens', async () => {
    for (const type of ['service', 'batch'] as const) {
      const none = await issue({ type });
      const some = await issue({ type, explicitMaxTtlSeconds: 600 });
      const huge = await issue({ type, explicitMaxTtlSeconds: CENTURY });
      expect(none.entry.explicitMaxTtl).toBe(0);
      expect(some.entry.explicitMaxTtl).toBe(600);
      expect(huge.entry.explicitMaxTtl).toBe(MAX_TOKEN_TTL_SECONDS);
      expect((await stored(some.token)).explicitMaxTtl).toBe(600);
    }
  });

  it('records role, mount and CIDR blocks only when given, and no empty list of blocks', async () => {
    const plain = await issue();
    for (const field of ['role', 'mount', 'boundCidrs', 'creator', 'revoking', 'type'])
      expect(Object.keys(plain.entry)).not.toContain(field);
    // What create returns is what is stored, without a field left undefined.
    expect(plain.entry).toStrictEqual(await stored(plain.token));
    const full = await issue({ role: 'deploy', mount: 'mount-a', boundCidrs: ['10.0.0.0/8'] });
    expect(full.entry).toMatchObject({
      role: 'deploy',
      mount: 'mount-a',
      boundCidrs: ['10.0.0.0/8'],
    });
    expect(full.entry).toStrictEqual(await stored(full.token));
    const unbound = await issue({ boundCidrs: [] });
    expect(Object.keys(unbound.entry)).not.toContain('boundCidrs');
    expect((await tokens.authenticate(unbound.token, '192.0.2.1')).accessor).toBe(
      unbound.entry.accessor,
    );
  });

  it("a batch token carries its entry's fields, the defaults included", async () => {
    const parent = await issue({ ttlSeconds: HOUR });
    const batch = await issue({
      type: 'batch',
      policies: ['b', 'a', 'b'],
      parent: parent.entry,
      ttlSeconds: 600,
      explicitMaxTtlSeconds: 900,
      role: 'deploy',
      boundCidrs: ['10.0.0.0/8'],
      displayName: 'ci',
      meta: { team: 'ops' },
      path: 'auth/token/create/deploy',
    });
    const at = bed.clock();
    const expected: TokenEntry = {
      accessor: '',
      policies: ['a', 'b'],
      displayName: 'ci',
      meta: { team: 'ops' },
      numUses: 0,
      parentHash: parent.entry.hash,
      path: 'auth/token/create/deploy',
      hash: batch.entry.hash,
      creationTime: at,
      creationTtl: 600,
      expireTime: at + 600,
      maxExpireTime: at + 600,
      renewable: false,
      explicitMaxTtl: 900,
      type: 'batch',
      role: 'deploy',
      boundCidrs: ['10.0.0.0/8'],
    };
    expect(batch.entry).toStrictEqual(expected);
    expect(await tokens.authenticate(batch.token, '10.1.1.1')).toStrictEqual(expected);
    const plain = await issue({ type: 'batch' });
    const defaults = await stored(plain.token);
    expect(defaults.displayName).toBe('token');
    expect(defaults.meta).toEqual({});
    // Zero uses and a zero period are what every batch token has: not refused.
    const zeros = await issue({ type: 'batch', numUses: 0, periodSeconds: 0 });
    expect((await stored(zeros.token)).type).toBe('batch');
  });

  it('refuses batch tokens that would be chosen, use-limited, periodic, root or too long, in words', async () => {
    await expect(issue({ type: 'batch', id: 'chosen' })).rejects.toMatchObject(
      invalid('batch tokens cannot have a chosen id'),
    );
    await expect(issue({ type: 'batch', numUses: 1 })).rejects.toMatchObject(
      invalid('batch tokens cannot be use-limited (num_uses)'),
    );
    await expect(issue({ type: 'batch', periodSeconds: 1 })).rejects.toMatchObject(
      invalid('batch tokens cannot be periodic'),
    );
    await expect(issue({ type: 'batch', policies: ['app', 'root'] })).rejects.toMatchObject(
      invalid('batch tokens cannot have the root policy'),
    );
    await expect(
      issue({ type: 'batch', meta: { big: 'x'.repeat(MAX_BATCH_TOKEN_LENGTH) } }),
    ).rejects.toMatchObject(
      invalid(
        `a batch token carries its policies and metadata, and these would make it longer than ${MAX_BATCH_TOKEN_LENGTH} characters`,
      ),
    );
  });

  it('issues and accepts a batch token of exactly the longest length', async () => {
    // The sealed length grows by one or two characters per metadata byte: search for a size
    // that lands exactly on the limit.
    const sized = async (bytes: number) => {
      try {
        return (await issue({ type: 'batch', meta: { pad: 'x'.repeat(bytes) } })).token;
      } catch {
        return undefined;
      }
    };
    let low = 0;
    let high = MAX_BATCH_TOKEN_LENGTH;
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if ((await sized(middle)) === undefined) high = middle;
      else low = middle;
    }
    // `low` is the largest padding accepted; one of the few sizes below it is exactly the limit.
    let longest: string | undefined;
    for (let bytes = low; bytes > low - 4 && longest === undefined; bytes--) {
      const token = await sized(bytes);
      if (token?.length === MAX_BATCH_TOKEN_LENGTH) longest = token;
    }
    expect(longest?.length).toBe(MAX_BATCH_TOKEN_LENGTH);
    expect((await stored(longest as string)).meta.pad?.length).toBeGreaterThan(0);
  });

  it('refuses to revoke or renew a batch token alone, in words, by entry and by value', async () => {
    const batch = await issue({ type: 'batch' });
    const revokeWords = invalid(
      'batch tokens cannot be revoked; they expire, or go with their parent',
    );
    await expect(tokens.revoke(batch.entry)).rejects.toMatchObject(revokeWords);
    await expect(tokens.revokeToken(batch.token)).rejects.toMatchObject(revokeWords);
    await expect(tokens.renew(batch.entry)).rejects.toMatchObject(
      invalid('batch tokens cannot be renewed'),
    );
    expect((await stored(batch.token)).type).toBe('batch');
  });

  it('refuses to renew a token that cannot renew or never expires, in words', async () => {
    const fixed = await issue({ ttlSeconds: HOUR, renewable: false });
    await expect(tokens.renew(fixed.entry, 60)).rejects.toMatchObject(
      invalid('token is not renewable'),
    );
    // Renewable, but without an expiry (no creation makes this; an entry may hold it).
    const endless = await issue({ ttlSeconds: HOUR });
    const planted = { ...endless.entry, expireTime: 0, maxExpireTime: 0 };
    await bed.node.barrier.write(`sys/token/id/${endless.entry.hash}`, planted);
    await expect(tokens.renew(planted, 60)).rejects.toMatchObject(
      invalid('token is not renewable'),
    );
    expect((await stored(endless.token)).expireTime).toBe(0);
  });

  it('refuses a child of a token admitted with uses left, in words, even once it spent them', async () => {
    // Its last use was the request's own: it is revoked, but the request names the reason.
    const parent = await issue({ numUses: 1 });
    const admitted = await tokens.authenticate(parent.token);
    for (const input of [{}, { orphan: true }, { type: 'batch' as const }]) {
      await expect(issue({ parent: admitted, ...input })).rejects.toMatchObject(
        invalid('use-limited tokens cannot create child tokens'),
      );
    }
  });

  it('refuses a batch token from a creator that has expired or is being revoked, unswept', async () => {
    const expired = await issue({ ttlSeconds: 60 });
    const marked = await issue({ ttlSeconds: HOUR });
    await bed.node.barrier.write(`sys/token/id/${marked.entry.hash}`, {
      ...marked.entry,
      revoking: true,
    });
    bed.clock.advance(60);
    for (const creator of [expired.entry, marked.entry]) {
      for (const orphan of [false, true]) {
        await expect(issue({ type: 'batch', parent: creator, orphan })).rejects.toMatchObject(
          denied,
        );
      }
    }
  });

  it('refuses a batch token from a token whose ancestor is no longer live', async () => {
    const grandparent = await issue({ ttlSeconds: HOUR });
    const parent = await issue({ parent: grandparent.entry });
    await bed.node.barrier.write(`sys/token/id/${grandparent.entry.hash}`, {
      ...grandparent.entry,
      revoking: true,
    });
    for (const orphan of [false, true]) {
      await expect(issue({ type: 'batch', parent: parent.entry, orphan })).rejects.toMatchObject(
        denied,
      );
    }
  });

  it("refuses a chosen id that starts as generated or batch tokens do, in Vault's words", async () => {
    for (const [id, prefix] of [
      ['cst.chosen', 'cst.'],
      ['hvb.chosen', 'hvb.'],
      ['hvb.', 'hvb.'],
    ] as const) {
      await expect(issue({ id, policies: ['root'] })).rejects.toMatchObject(
        invalid(`custom token ID cannot have the '${prefix}' prefix`),
      );
      expect(await tokens.lookup(id)).toBeUndefined();
    }
    // Only the exact prefix is reserved: the store reads other spellings as service tokens.
    for (const id of ['CST.chosen', 'hvb-chosen', 'xcst.chosen']) {
      const { token } = await issue({ id });
      expect(token).toBe(id);
      expect((await tokens.authenticate(id)).policies).toEqual(['app']);
    }
  });

  it('refuses all but one of several creations with one chosen id at once, in words', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => issue({ id: 'raced-id', displayName: `racer-${i}` })),
    );
    const created = results.filter((r) => r.status === 'fulfilled');
    expect(created).toHaveLength(1);
    for (const result of results) {
      if (result.status === 'rejected')
        expect(result.reason).toMatchObject(invalid('cannot create a token with a duplicate ID'));
    }
    const winner = (created[0] as PromiseFulfilledResult<{ entry: TokenEntry }>).value.entry;
    expect((await stored('raced-id')).displayName).toBe(winner.displayName);
  });

  it('treats values that are not strings, and the empty value, as no token', async () => {
    const odd = ['cst.x'] as unknown as string;
    expect(await tokens.lookup(odd)).toBeUndefined();
    await expect(tokens.authenticate(odd)).rejects.toMatchObject(denied);
    await expect(tokens.revokeToken(odd)).resolves.toBeUndefined();
    await expect(tokens.revokeAccessor(odd)).resolves.toBeUndefined();
    expect(await tokens.byAccessor(odd)).toBeUndefined();
    // Even a token stored under the empty value (which the store refuses to issue) is never
    // found by it.
    await bed.plantToken('', (await issue()).entry);
    expect(await tokens.lookup('')).toBeUndefined();
    await expect(tokens.authenticate('')).rejects.toMatchObject(denied);
  });

  it('refuses a token whose stored CIDR blocks are damaged, naming the field and not the blocks', async () => {
    const { entry } = await issue({ boundCidrs: ['10.0.0.0/8'] });
    const value = 'planted-damaged-blocks';
    await bed.plantToken(value, { ...entry, boundCidrs: ['10.0.0.0/8', '10.0.0.0/999'] });
    await expect(tokens.authenticate(value, '10.1.2.3')).rejects.toMatchObject(
      invalid('token_bound_cidrs: entry 2 is not a CIDR block (address/prefix)'),
    );
  });

  it('reports a storage failure while storing a chosen id as itself, not as a duplicate, storing nothing', async () => {
    const raw = await bed.raw();
    // The database refuses new token entries (as a full disk or a lost connection would).
    await raw.run(
      kind === 'sqlite'
        ? "create trigger refuse_ids before insert on custos_entries when new.path like 'sys/token/id/%' begin select raise(abort, 'storage refused the entry'); end"
        : "create function refuse_ids() returns trigger language plpgsql as $$ begin raise exception 'storage refused the entry'; end $$; create trigger refuse_ids before insert on custos_entries for each row when (new.path like 'sys/token/id/%') execute function refuse_ids()",
    );
    try {
      const before = await tokens.listAccessors();
      const failed = await issue({ id: 'refused-by-storage' }).catch((err: Error) => err);
      expect(failed).toBeInstanceOf(Error);
      expect((failed as Error).message).toContain('storage refused the entry');
      expect(failed).not.toMatchObject(invalid('cannot create a token with a duplicate ID'));
      expect(await tokens.listAccessors()).toEqual(before);
    } finally {
      await raw.run(
        kind === 'sqlite'
          ? 'drop trigger refuse_ids'
          : 'drop trigger refuse_ids on custos_entries; drop function refuse_ids()',
      );
    }
    expect((await issue({ id: 'refused-by-storage' })).token).toBe('refused-by-storage');
  });

  it('takes an accessor that is no storage key for an unknown one', async () => {
    const { entry } = await issue();
    for (const accessor of ['../id/x', `x/../${entry.accessor}`, 'a\0b', '/abs']) {
      expect(await tokens.byAccessor(accessor)).toBeUndefined();
      await expect(tokens.revokeAccessor(accessor)).resolves.toBeUndefined();
    }
    expect((await tokens.byAccessor(entry.accessor))?.hash).toBe(entry.hash);
    // An accessor longer than any issued is unknown, even were something stored under it.
    const long = 'a'.repeat(257);
    await bed.node.barrier.write(`sys/token/accessor/${long}`, { hash: entry.hash });
    expect(await tokens.byAccessor(long)).toBeUndefined();
    await tokens.revokeAccessor(long);
    expect((await tokens.byAccessor(entry.accessor))?.hash).toBe(entry.hash);
  });
});
