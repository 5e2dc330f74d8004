import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageKinds } from '../../test/harness.js';
import type { RawEntries } from '../../test/raw-entries.js';
import { openTokenTestbed, type TokenTestbed } from '../../test/token-store.js';
import type { TokenStore } from './token-store.js';

// A node's cached token entry can be older than storage: another node spent a use and its
// change notification is still on the way. Spending a use from the stale copy conflicts; the
// node must then drop its copy and read storage, or every retry would meet the same conflict.
describe.each(await storageKinds())(
  'a token cached before another node changed it, on %s',
  (kind) => {
    let bed: TokenTestbed;
    let tokens: TokenStore;
    let raw: RawEntries;
    beforeAll(async () => {
      bed = await openTokenTestbed(kind);
      tokens = bed.node.tokens;
      raw = await bed.raw();
    });
    afterAll(async () => {
      await bed.close();
    });

    it.each([
      [5, 'spends a use'],
      [1, 'spends the last use (revoking the token)'],
    ])(
      'with %i uses left, %s after reading storage again, when its cached copy conflicts',
      async (numUses) => {
        const { token, entry } = await tokens.create({
          policies: ['app'],
          path: 'auth/token/create',
          numUses,
        });
        // The creation's own notifications land before the entry is cached (they would drop it).
        await sleep(200);
        expect((await tokens.lookup(token))?.numUses).toBe(numUses);
        // Storage moves on unheard: the cached copy's revision is now stale.
        await raw.bumpRevision(`sys/token/id/${entry.hash}`);
        expect((await tokens.authenticate(token)).hash).toBe(entry.hash);
        const stored = (await bed.node.barrier.read(`sys/token/id/${entry.hash}`))?.data;
        if (numUses === 1) expect(stored).toBeUndefined();
        else expect(stored).toMatchObject({ numUses: numUses - 1 });
      },
    );
  },
);
