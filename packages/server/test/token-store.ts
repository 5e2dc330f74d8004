/**
 * Test support for the token store: real token stores over real SQLite or PostgreSQL, with a clock
 * the test moves. Several "nodes" can share one storage (each with its own connection pool, seal,
 * barrier and caches), as several servers would.
 */

import { hmacSha256 } from '@custos/core/crypto';
import { createTokenStore, type TokenEntry, type TokenStore } from '../src/auth/token-store.js';
import { type Barrier, createBarrier } from '../src/barrier/barrier.js';
import { SealManager } from '../src/seal/seal-manager.js';
import type { ChangeFeed } from '../src/storage/change-feed.js';
import { openStorage, type StorageDatabase } from '../src/storage/database.js';
import { createEntryStore } from '../src/storage/entry-store.js';
import { openChangeFeed } from '../src/storage/open-change-feed.js';
import { createTestStorage, type StorageKind, type TestStorage } from './harness.js';
import { type RawEntries, rawEntries } from './raw-entries.js';

/** A settable clock in Unix seconds. */
export interface TestClock {
  (): number;
  /** Moves the clock forward. */
  advance(seconds: number): void;
}

/** A clock that stands still until the test moves it. */
export function testClock(start = 1_800_000_000): TestClock {
  let at = start;
  const clock = (() => at) as TestClock;
  clock.advance = (seconds) => {
    at += seconds;
  };
  return clock;
}

/** One server's view of the shared storage. */
export interface TokenNode {
  readonly tokens: TokenStore;
  readonly barrier: Barrier;
}

/** Token stores over one fresh storage. */
export interface TokenTestbed {
  readonly clock: TestClock;
  /** The first node, opened with the storage. */
  readonly node: TokenNode;
  /** Opens another node on the same storage (another connection pool, seal and cache). */
  openNode(): Promise<TokenNode>;
  /** Every stored token path under `sys/token/` (id, accessor, child and due entries). */
  tokenPaths(): Promise<string[]>;
  /**
   * Stores a copy of `entry` as the token whose value is `value`, behind the store's back: for
   * values the store refuses to issue (an empty one, one longer than any request can carry).
   */
  plantToken(value: string, entry: TokenEntry): Promise<void>;
  /** The storage's raw entries, behind every node's back (see `RawEntries`). */
  raw(): Promise<RawEntries>;
  close(): Promise<void>;
}

/**
 * Initialises a fresh storage of `kind` and unseals a token store over it.
 *
 * @example
 * ```ts
 * const bed = await openTokenTestbed('postgres');
 * const { token } = await bed.node.tokens.create({ policies: ['a'], path: 'auth/token/create' });
 * ```
 */
export async function openTokenTestbed(kind: StorageKind): Promise<TokenTestbed> {
  const storage: TestStorage = await createTestStorage(kind);
  const clock = testClock();
  const databases: StorageDatabase[] = [];
  const feeds: ChangeFeed[] = [];
  const raws: RawEntries[] = [];
  let share: Buffer | undefined;

  const openNode = async (): Promise<TokenNode> => {
    const database = await openStorage(storage.location);
    databases.push(database);
    // Each node follows the others' writes as a server does (its caches are dropped by them).
    const changes = await openChangeFeed(storage.location);
    feeds.push(changes);
    const store = createEntryStore(database.db, changes);
    const seal = new SealManager(store);
    await seal.load();
    if (share === undefined) [share] = await seal.initialize(1, 1);
    await seal.submitShare(Buffer.from(share as Buffer));
    const barrier = createBarrier(store, seal);
    return { tokens: createTokenStore(barrier, clock), barrier };
  };

  const node = await openNode();
  return {
    clock,
    node,
    openNode,
    tokenPaths: () => node.barrier.listPaths('sys/token/'),
    async plantToken(value, entry) {
      const hash = hmacSha256(await node.tokens.hmacKey(), value).toString('hex');
      await node.barrier.write(`sys/token/id/${hash}`, { ...entry, hash });
    },
    async raw() {
      const raw = await rawEntries(storage);
      raws.push(raw);
      return raw;
    },
    async close() {
      for (const raw of raws) await raw.close();
      for (const feed of feeds) await feed.close();
      for (const database of databases) await database.close();
      await storage.cleanup();
    },
  };
}
