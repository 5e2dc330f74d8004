import {
  openTestDatabase,
  type TestDatabase,
  testDatabaseKinds,
} from '@custos/test-support/kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiKeyRecord,
  type ApiKeyStore,
  createMemoryApiKeyStore,
  createSqlApiKeyStore,
} from './index.js';

// Every store keeps the same promises; the service relies on them whatever the backend.
const backends: {
  name: string;
  open(): Promise<{ store: ApiKeyStore; close(): Promise<void> }>;
}[] = [
  {
    name: 'memory',
    open: async () => ({ store: createMemoryApiKeyStore(), close: async () => {} }),
  },
  ...(await testDatabaseKinds()).map((kind) => ({
    name: `SQL on ${kind}`,
    async open() {
      const database: TestDatabase = await openTestDatabase(kind, 'apikeycontract');
      const store = createSqlApiKeyStore({ db: database.db, tableName: 'contract_keys' });
      await store.createTable();
      return { store, close: () => database.close() };
    },
  })),
];

let serial = 0;
function record(fields: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  serial++;
  return {
    keyId: `contract${String(serial).padStart(4, '0')}`,
    prefix: 'acme',
    hmac: Buffer.alloc(32, serial).toString('base64url'),
    pepperId: 'p1',
    scopes: ['read', 'write'],
    name: `key ${serial}`,
    ownerId: null,
    createdAt: new Date(Date.UTC(2030, 0, 1, 0, 0, serial)),
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    ...fields,
  };
}

describe.each(backends)('API-key store contract: $name', (backend) => {
  let store: ApiKeyStore;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ store, close } = await backend.open());
  });
  afterAll(() => close());

  it('returns a stored record as it was inserted, and nothing for an unknown key id', async () => {
    const stored = record({
      ownerId: 'owner-a',
      expiresAt: new Date(Date.UTC(2031, 5, 1)),
      lastUsedAt: new Date(Date.UTC(2030, 0, 2)),
    });
    await store.insert(stored);
    expect(await store.findByKeyId(stored.keyId)).toEqual(stored);
    expect(await store.findByKeyId('unknownkey00')).toBeUndefined();
  });

  it('refuses a second record with the same key id (ERR_KEY_EXISTS) and keeps the first', async () => {
    const first = record();
    await store.insert(first);
    await expect(store.insert({ ...first, name: 'second', hmac: 'x' })).rejects.toMatchObject({
      code: 'ERR_KEY_EXISTS',
      message: `API key id ${first.keyId} already exists`,
    });
    expect(await store.findByKeyId(first.keyId)).toEqual(first);
  });

  it('revokes a key once, at the time given, and reports an unknown key id as not revoked', async () => {
    const stored = record();
    await store.insert(stored);
    const at = new Date(Date.UTC(2030, 3, 1));
    expect(await store.revoke('unknownkey01', at)).toBe(false);
    expect(await store.findByKeyId('unknownkey01')).toBeUndefined();
    expect(await store.revoke(stored.keyId, at)).toBe(true);
    expect(await store.revoke(stored.keyId, new Date(Date.UTC(2030, 4, 1)))).toBe(false);
    expect(await store.findByKeyId(stored.keyId)).toEqual({ ...stored, revokedAt: at });
  });

  it('records the last use of a known key and creates nothing for an unknown one', async () => {
    const stored = record();
    await store.insert(stored);
    const at = new Date(Date.UTC(2030, 6, 1, 12));
    await store.touch(stored.keyId, at);
    await store.touch('unknownkey02', at);
    expect(await store.findByKeyId(stored.keyId)).toEqual({ ...stored, lastUsedAt: at });
    expect(await store.findByKeyId('unknownkey02')).toBeUndefined();
  });

  it("lists one owner's records, newest first, and nobody else's", async () => {
    const older = record({ ownerId: 'owner-b', createdAt: new Date(Date.UTC(2030, 1, 1)) });
    const newest = record({ ownerId: 'owner-b', createdAt: new Date(Date.UTC(2030, 2, 1)) });
    const middle = record({ ownerId: 'owner-b', createdAt: new Date(Date.UTC(2030, 1, 15)) });
    const someoneElse = record({ ownerId: 'owner-c', createdAt: new Date(Date.UTC(2030, 9, 1)) });
    const nobody = record({ ownerId: null });
    for (const r of [older, someoneElse, newest, nobody, middle]) await store.insert(r);
    expect(await store.listByOwner('owner-b')).toEqual([newest, middle, older]);
    expect(await store.listByOwner('owner-c')).toEqual([someoneElse]);
    expect(await store.listByOwner('owner-z')).toEqual([]);
  });
});
