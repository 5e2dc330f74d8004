import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChangeFeed, createLocalChangeFeed } from './change-feed.js';
import { openStorage, type StorageDatabase } from './database.js';
import { createEntryStore, type EntryStore } from './entry-store.js';
import { EVENTS, isUncached } from './layout.js';

const bytes = (s: string) => Buffer.from(s);
const relayPath = (n: number) => `${EVENTS.prefix}${EVENTS.relay}0001733300000000-node-${n}`;

// Settling a write waits for every other node to drop what it changed: for nothing where no
// node caches anything (the change-event relay), so those writes do not settle.
describe('writes that settle with the other nodes', () => {
  let storage: StorageDatabase;
  let store: EntryStore;
  let settles = 0;
  const told: string[] = [];
  beforeAll(async () => {
    storage = await openStorage(':memory:');
    const feed = createLocalChangeFeed();
    const counting: ChangeFeed = Object.assign(Object.create(feed) as ChangeFeed, {
      settle: async () => {
        settles += 1;
      },
      committed: (paths: readonly string[]) => {
        told.push(...paths);
        feed.committed(paths);
      },
    });
    store = createEntryStore(storage.db, counting);
  });
  afterAll(async () => {
    await storage.close();
  });

  it('a relay entry is told to this node but not settled; any other write is settled', async () => {
    settles = 0;
    await store.put(relayPath(1), bytes('event'));
    await store.delete(relayPath(1));
    await store.transaction(async (tx) => {
      await tx.insert(relayPath(2), bytes('event'));
    });
    expect(settles).toBe(0);
    expect(told).toEqual([relayPath(1), relayPath(1), relayPath(2)]);
    await store.put('kv/secret/meta/app', bytes('meta'));
    expect(settles).toBe(1);
    // A transaction that wrote a cached area besides the relay settles once.
    await store.transaction(async (tx) => {
      await tx.insert(relayPath(3), bytes('event'));
      await tx.put('kv/secret/meta/app', bytes('meta 2'));
    });
    expect(settles).toBe(2);
  });

  it('only the relay area is uncached: its neighbours and look-alikes are not', () => {
    expect(isUncached(relayPath(1))).toBe(true);
    expect(isUncached(`${EVENTS.prefix}other`)).toBe(false);
    expect(isUncached(`kv/secret/meta/${EVENTS.prefix}${EVENTS.relay}x`)).toBe(false);
    expect(isUncached(EVENTS.prefix + EVENTS.relay.slice(0, -1))).toBe(false);
  });
});
