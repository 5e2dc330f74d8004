/**
 * The change feed and the caches on it: what a notification carries (a digest, never a path),
 * that a rolled-back write notifies nothing, and that a fill which raced a change is not kept.
 */
import { POSTGRES_URL } from '@custos/test-support/services';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStorage, storageKinds, type TestStorage } from '../../test/harness.js';
import { createLocalChangeFeed, pathDigest, scopedChangeFeed } from './change-feed.js';
import { openStorage, type StorageDatabase } from './database.js';
import { createEntryStore } from './entry-store.js';
import { createFeedCache } from './feed-cache.js';
import { openChangeFeed } from './open-change-feed.js';
import { feedNamesOf } from './postgres-change-feed.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('caches on the change feed', () => {
  it('keep a fill only if the entry did not change since the read began', () => {
    const feed = createLocalChangeFeed();
    const view = scopedChangeFeed(feed, 'area/');
    const cache = createFeedCache<string>(view, { prefix: 'k/', limit: 10 });
    const stamp = cache.stamp();
    // Another entry changed meanwhile: the fill is kept.
    feed.committed(['area/k/other']);
    cache.fill('one', 'old', stamp);
    expect(cache.get('one')).toBe('old');
    // The entry itself changed while the next read was in flight: that fill is not kept.
    const racing = cache.stamp();
    feed.committed(['area/k/one']);
    expect(cache.get('one')).toBeUndefined();
    cache.fill('one', 'old', racing);
    expect(cache.get('one')).toBeUndefined();
    cache.fill('one', 'new', cache.stamp());
    expect(cache.get('one')).toBe('new');
    // Dropped by a write through the view too.
    view.committed(['k/one']);
    expect(cache.get('one')).toBeUndefined();
  });

  it('keep what a write committed only if that write was the entry’s one change since it began', () => {
    const feed = createLocalChangeFeed();
    const view = scopedChangeFeed(feed, 'area/');
    const cache = createFeedCache<string>(view, { prefix: 'k/', limit: 10 });
    // The write's own report, and a change of another entry: kept.
    let stamp = cache.stamp();
    feed.committed(['area/k/other']);
    view.committed(['k/one']);
    cache.fillWritten('one', 'mine', stamp);
    expect(cache.get('one')).toBe('mine');
    // Nothing reported since (the write told no one yet): kept too, nothing changed it.
    cache.fillWritten('two', 'mine', cache.stamp());
    expect(cache.get('two')).toBe('mine');
    // Another write of the same entry reported too, before or after the write's own: refused,
    // whichever of the two committed last.
    for (const order of [
      ['theirs', 'mine'],
      ['mine', 'theirs'],
    ]) {
      stamp = cache.stamp();
      for (const _ of order) feed.committed(['area/k/one']);
      cache.fillWritten('one', 'mine', stamp);
      expect(cache.get('one'), order.join(' then ')).toBeUndefined();
    }
    // A plain fill still allows no change at all.
    stamp = cache.stamp();
    feed.committed(['area/k/one']);
    cache.fill('one', 'read', stamp);
    expect(cache.get('one')).toBeUndefined();
    // Nor is a write's value kept after a drop, or once the record of changes was let go.
    stamp = cache.stamp();
    cache.drop('unrelated');
    feed.committed(['area/k/one']);
    cache.fillWritten('one', 'mine', stamp);
    expect(cache.get('one')).toBeUndefined();
    stamp = cache.stamp();
    for (let i = 0; i < 5000; i++) feed.committed([`noise/${i}`]);
    cache.fillWritten('one', 'mine', stamp);
    expect(cache.get('one')).toBeUndefined();
  });

  it('refuse fills older than the changes they remember (4096), and keep the limit', () => {
    const feed = createLocalChangeFeed();
    const cache = createFeedCache<number>(feed, { prefix: '', limit: 3 });
    const stamp = cache.stamp();
    for (let i = 0; i < 5000; i++) feed.committed([`noise/${i}`]);
    // Whether `a` changed among them is no longer known: not kept.
    cache.fill('a', 1, stamp);
    expect(cache.get('a')).toBeUndefined();
    for (const key of ['a', 'b', 'c', 'd']) cache.fill(key, 1, cache.stamp());
    expect(['a', 'b', 'c', 'd'].map((key) => cache.get(key))).toEqual([undefined, 1, 1, 1]);
  });

  it('digest a path as every node of every version does: the first 128 bits of its UTF-8 SHA-256', () => {
    // Nodes of two builds share one PostgreSQL during a rolling restart: a digest computed
    // another way would leave the other node's caches stale.
    expect(pathDigest('secret/data/café/ключ')).toBe('b4b51fb4a1c895d538a8b2a93b300a6c');
  });

  it('drop every key that names a changed path, however it was spelt', () => {
    const feed = createLocalChangeFeed();
    const cache = createFeedCache<string>(feed, { prefix: 'v/', limit: 10 });
    // A lone surrogate is U+FFFD once UTF-8 encoded: one path to the digest and to storage.
    const spellings = ['x\ud800', 'x\ufffd', 'x\udfff'];
    expect(new Set(spellings.map((key) => pathDigest(`v/${key}`))).size).toBe(1);
    for (const key of spellings) cache.fill(key, 'old', cache.stamp());
    cache.fill('y', 'other', cache.stamp());
    // One dropped by hand: the others are still followed.
    cache.drop('x\udfff');
    feed.committed(['v/x\ufffd']);
    expect(spellings.map((key) => cache.get(key))).toEqual([undefined, undefined, undefined]);
    expect(cache.get('y')).toBe('other');
    cache.fill('x\ud800', 'new', cache.stamp());
    feed.committed(['v/x\ud800']);
    expect(cache.get('x\ud800')).toBeUndefined();
  });

  it('drop everything, and refuse fills in flight, after clear', () => {
    const cache = createFeedCache<number>(createLocalChangeFeed(), { prefix: '', limit: 3 });
    cache.fill('a', 1, cache.stamp());
    const stamp = cache.stamp();
    cache.clear();
    cache.fill('b', 2, stamp);
    expect([cache.get('a'), cache.get('b')]).toEqual([undefined, undefined]);
  });
});

describe.runIf((await storageKinds()).includes('postgres'))('the PostgreSQL change feed', () => {
  let storage: TestStorage;
  let database: StorageDatabase;
  let listener: pg.Client;
  const payloads: string[] = [];
  beforeAll(async () => {
    storage = await createTestStorage('postgres');
    database = await openStorage(storage.location);
    listener = new pg.Client({ connectionString: POSTGRES_URL });
    await listener.connect();
    const schema = storage.raw.kind === 'postgres' ? storage.raw.schema : undefined;
    listener.on('notification', (message) => payloads.push(message.payload ?? ''));
    await listener.query(`listen "${feedNamesOf(schema).channel}"`);
  });
  afterAll(async () => {
    await listener.end();
    await database.close();
    await storage.cleanup();
  });

  /** The change notifications received (the feed's own settle requests left out). */
  const changes = () => payloads.filter((payload) => payload.startsWith('c:'));
  /** Waits until `count` change notifications arrived (each write notifies at commit). */
  const arrived = async (count: number) => {
    for (let i = 0; i < 200 && changes().length < count; i++)
      await new Promise((r) => setTimeout(r, 10));
    return changes();
  };

  it('notifies the digest of each path written, never the path; nothing for a rollback', async () => {
    const feed = await openChangeFeed(storage.location);
    try {
      const store = createEntryStore(database.db, feed);
      const canary = 'kv/secret/meta/canary-key-name-7c1e';
      await expect(
        store.transaction(async (tx) => {
          await tx.put('rolled/back', bytes('x'));
          throw new Error('abandoned');
        }),
      ).rejects.toThrow('abandoned');
      await store.put(canary, bytes('a'));
      await store.transaction(async (tx) => {
        await tx.insert('second/entry', bytes('b'));
        await tx.delete(canary);
      });
      const got = await arrived(3);
      // In commit order; the rolled-back write never notified.
      expect(got).toHaveLength(3);
      expect(got[0]).toBe(`c:${pathDigest(canary)}`);
      expect(new Set(got.slice(1))).toEqual(
        new Set([`c:${pathDigest('second/entry')}`, `c:${pathDigest(canary)}`]),
      );
      for (const payload of payloads) {
        expect(payload).toMatch(/^(c:[0-9a-f]{32}|settled?:[0-9a-f-]{36})$/);
        expect(payload).not.toContain('canary');
      }
      expect(payloads).not.toContain(`c:${pathDigest('rolled/back')}`);
    } finally {
      await feed.close();
    }
  });

  it('makes a write wait until every other listening node answered that it applied it', async () => {
    const schema = storage.raw.kind === 'postgres' ? storage.raw.schema : undefined;
    const { channel, applicationName } = feedNamesOf(schema);
    const feed = await openChangeFeed(storage.location, {}, { settleTimeoutMs: 60_000 });
    // Another node, played by hand: listed as a feed connection, answering only when told.
    const peer = new pg.Client({
      connectionString: POSTGRES_URL,
      application_name: applicationName,
    });
    const heard: pg.Notification[] = [];
    let nextMessage = () => {};
    peer.on('notification', (message) => {
      heard.push(message);
      nextMessage();
    });
    const waitFor = (match: (payload: string) => boolean) =>
      new Promise<string>((resolve) => {
        const check = () => {
          const found = heard.find((m) => match(m.payload ?? ''));
          if (found !== undefined) resolve(found.payload ?? '');
        };
        nextMessage = check;
        check();
      });
    try {
      await peer.connect();
      await peer.query(`listen "${channel}"`);
      // It joins as a node does: its settle request is answered by the feed.
      await peer.query('select pg_notify($1, $2)', [channel, 'settle:joining']);
      await waitFor((payload) => payload === 'settled:joining');
      const store = createEntryStore(database.db, feed);
      let done = false;
      const write = store.put('settled/entry', bytes('v')).then(() => {
        done = true;
      });
      const request = await waitFor(
        (payload) => payload.startsWith('settle:') && payload !== 'settle:joining',
      );
      // The write committed (its notification came first) but does not return before the
      // peer answers.
      expect(heard.map((m) => m.payload)).toContain(`c:${pathDigest('settled/entry')}`);
      await new Promise((r) => setTimeout(r, 50));
      expect(done).toBe(false);
      await peer.query('select pg_notify($1, $2)', [
        channel,
        `settled:${request.slice('settle:'.length)}`,
      ]);
      await write;
      expect(done).toBe(true);
    } finally {
      await peer.end();
      await feed.close();
    }
  });
});
