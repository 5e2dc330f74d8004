import { requireService } from '@custos/test-support/services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStorage, storageKinds, type TestStorage } from '../../test/harness.js';
import { openStorage, type StorageDatabase } from './database.js';
import { createEntryStore, type EntryStore } from './entry-store.js';

const bytes = (s: string) => Buffer.from(s);

describe.each(await storageKinds())('entry store on %s', (kind) => {
  let storage: TestStorage;
  let db: StorageDatabase;
  let store: EntryStore;
  beforeAll(async () => {
    storage = await createTestStorage(kind);
    db = await openStorage(storage.location);
    store = createEntryStore(db.db);
  });
  afterAll(async () => {
    await db.close();
    await storage.cleanup();
  });

  it('inserts once: a second insert of the same path is a version conflict', async () => {
    await store.insert('a/1', bytes('one'));
    await expect(store.insert('a/1', bytes('two'))).rejects.toMatchObject({
      code: 'ERR_VERSION_CONFLICT',
    });
    expect(Buffer.from((await store.get('a/1'))?.value ?? []).toString()).toBe('one');
  });

  it('updates only at the expected revision', async () => {
    const before = await store.get('a/1');
    await store.update('a/1', bytes('three'), before?.revision as number);
    await expect(
      store.update('a/1', bytes('four'), before?.revision as number),
    ).rejects.toMatchObject({
      code: 'ERR_VERSION_CONFLICT',
    });
    await expect(store.update('missing', bytes('x'), 1)).rejects.toMatchObject({
      code: 'ERR_VERSION_CONFLICT',
    });
    expect((await store.get('a/1'))?.revision).toBe((before?.revision as number) + 1);
  });

  it('never repeats a revision of an entry deleted and created again (insert, put, in transactions)', async () => {
    // A copy cached before the delete must not pass a conditional update of the new entry.
    const create = [
      (path: string) => store.insert(path, bytes('x')),
      (path: string) => store.transaction((tx) => tx.insert(path, bytes('x'))),
      async (path: string) => {
        await store.put(path, bytes('x'));
        return (await store.revision(path)) as number;
      },
    ];
    for (const [i, make] of create.entries()) {
      const path = `reborn/${i}`;
      const seen = new Set<number>();
      for (let life = 0; life < 5; life++) {
        let revision = await make(path);
        expect((await store.get(path))?.revision).toBe(revision);
        for (let update = 0; update < 3; update++) {
          expect(seen.has(revision)).toBe(false);
          seen.add(revision);
          revision = await store.update(path, bytes(`u${update}`), revision);
        }
        seen.add(revision);
        await store.delete(path);
      }
      const revision = await make(path);
      expect(seen.has(revision)).toBe(false);
      for (const old of seen) {
        await expect(store.update(path, bytes('stale'), old)).rejects.toMatchObject({
          code: 'ERR_VERSION_CONFLICT',
        });
      }
      expect(Buffer.from((await store.get(path))?.value ?? []).toString()).toBe('x');
    }
  });

  it('rolls a failed transaction back completely', async () => {
    await expect(
      store.transaction(async (tx) => {
        await tx.insert('tx/new', bytes('x'));
        await tx.put('a/1', bytes('changed'));
        await tx.insert('a/1', bytes('conflict'));
      }),
    ).rejects.toMatchObject({ code: 'ERR_VERSION_CONFLICT' });
    expect(await store.get('tx/new')).toBeUndefined();
    expect(Buffer.from((await store.get('a/1'))?.value ?? []).toString()).toBe('three');
  });

  it('lists by literal prefix (LIKE wildcards and case are not patterns)', async () => {
    for (const p of ['l/a', 'l/b/c', 'l_x', 'L/upper', 'l%/y', 'm/z'])
      await store.put(p, bytes('v'));
    expect(await store.listPaths('l/')).toEqual(['l/a', 'l/b/c']);
    expect(await store.listPaths('l%')).toEqual(['l%/y']);
    expect(await store.listPaths('l_')).toEqual(['l_x']);
  });

  it('stores values byte for byte', async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await store.put('binary', all);
    expect(Buffer.from((await store.get('binary'))?.value ?? []).equals(all)).toBe(true);
  });
});

describe.runIf(await requireService('postgres'))(
  'two deployments in one PostgreSQL database',
  () => {
    it('migrate and store apart, each in its own schema', async () => {
      const a = await createTestStorage('postgres');
      const b = await createTestStorage('postgres');
      try {
        // Before the fix, the second schema's migration found the first one's lock table and failed.
        const first = await openStorage(a.location);
        const second = await openStorage(b.location);
        await createEntryStore(first.db).put('shared/path', bytes('a'));
        expect(await createEntryStore(second.db).get('shared/path')).toBeUndefined();
        await first.close();
        await second.close();
      } finally {
        await a.cleanup();
        await b.cleanup();
      }
    });
  },
);

// Callers take listPaths' order for code point order (the token sweep stops at the first key not
// yet due, lists are returned as Vault returns them): a database created with a linguistic
// collation must not reorder them. en-x-icu puts `aB` before `Ab` and ignores punctuation first.
describe.runIf(await requireService('postgres'))('listing on a PostgreSQL of ICU collation', () => {
  it('lists paths in code point order, not in the collation of the database', async () => {
    const storage = await createTestStorage('postgres');
    const opened = await openStorage(storage.location);
    try {
      if (storage.raw.kind !== 'postgres') throw new Error('a PostgreSQL storage was asked for');
      const { sql } = await import('kysely');
      await sql
        .raw(
          `alter table "${storage.raw.schema}".custos_entries alter column path type text collate "en-x-icu"`,
        )
        .execute(opened.db);
      const store = createEntryStore(opened.db);
      const paths = ['k/Ab', 'k/aB', 'k/a-c', 'k/a_b', 'k/ab', 'k/B', 'k/a', 'k/a/b', 'k/é', 'k/z'];
      for (const path of paths) await store.put(path, bytes('v'));
      expect(await store.listPaths('k/')).toEqual([...paths].sort());
    } finally {
      await opened.close();
      await storage.cleanup();
    }
  });
});
