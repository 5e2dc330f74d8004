import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStorage, storageKinds, type TestStorage } from '../../test/harness.js';
import { queriesDuring } from '../../test/query-count.js';
import { openStorage, type StorageDatabase } from './database.js';
import { createEntryStore, type EntryStore } from './entry-store.js';
import { BATCH_LIMIT } from './read-batcher.js';

const bytes = (s: string) => Buffer.from(s);
const text = (entry: { value: Uint8Array } | undefined) =>
  entry === undefined ? undefined : Buffer.from(entry.value).toString();

describe.each(await storageKinds())('reads of concurrent callers on %s', (kind) => {
  let storage: TestStorage;
  let db: StorageDatabase;
  let store: EntryStore;
  /** PostgreSQL shares round trips; SQLite (no round trip) asks each read on its own. */
  const batched = kind === 'postgres';
  beforeAll(async () => {
    storage = await createTestStorage(kind);
    db = await openStorage(storage.location);
    store = createEntryStore(db.db);
    for (const name of ['a', 'b', 'c']) await store.put(`batch/${name}`, bytes(name));
  });
  afterAll(async () => {
    await db.close();
    await storage.cleanup();
  });

  it('answers the reads of one turn with one query per kind, each its own row', async () => {
    let answers: unknown[] = [];
    const sql = await queriesDuring(async () => {
      answers = await Promise.all([
        store.get('batch/a'),
        store.get('batch/b'),
        store.get('batch/missing'),
        store.get('batch/a'),
        store.revision('batch/c'),
        store.revision('batch/missing'),
      ]);
    });
    expect(answers.slice(0, 4).map((e) => text(e as { value: Uint8Array } | undefined))).toEqual([
      'a',
      'b',
      undefined,
      'a',
    ]);
    expect(answers[4]).toEqual(expect.any(Number));
    expect(answers[5]).toBeUndefined();
    expect(sql.length).toBe(batched ? 2 : 6);
  });

  it('sees a write committed before the read, among concurrent reads of the same path', async () => {
    const before = await store.revision('batch/a');
    const reads = [store.get('batch/a'), store.revision('batch/a')];
    await Promise.all(reads);
    await store.put('batch/a', bytes('a2'));
    const [entry, revision] = await Promise.all([store.get('batch/a'), store.revision('batch/a')]);
    expect(text(entry)).toBe('a2');
    expect(revision).toBeGreaterThan(before as number);
  });

  it(`splits more than ${BATCH_LIMIT} paths over several queries and answers them all`, async () => {
    const paths = Array.from({ length: BATCH_LIMIT + 10 }, (_, i) => `batch/many/${i}`);
    let found: (number | undefined)[] = [];
    const sql = await queriesDuring(async () => {
      found = await Promise.all([
        store.revision('batch/b'),
        ...paths.map((p) => store.revision(p)),
      ]);
    });
    expect(found[0]).toEqual(expect.any(Number));
    expect(found.slice(1).every((r) => r === undefined)).toBe(true);
    expect(sql.length).toBe(batched ? 2 : paths.length + 1);
  });

  it('rejects every read of a batch whose query fails, and is not stuck afterwards', async () => {
    const other = await openStorage(storage.location);
    const closing = createEntryStore(other.db);
    await other.close();
    const reads = [closing.get('batch/a'), closing.revision('batch/b')];
    for (const read of reads) await expect(read).rejects.toThrow();
    expect(text(await store.get('batch/b'))).toBe('b');
  });
});
