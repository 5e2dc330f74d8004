import {
  openTestDatabase,
  type TestDatabase,
  testDatabaseKinds,
} from '@custos/test-support/kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyService, createSqlApiKeyStore, type SqlApiKeyStore } from './index.js';

const kinds = await testDatabaseKinds();
const peppers = { currentId: 'k1', peppers: { k1: 'sql-store-pepper-0123456789abcdef0123456789' } };

describe.each(kinds)('SQL API-key store on %s', (kind) => {
  let database: TestDatabase;
  let store: SqlApiKeyStore;
  beforeAll(async () => {
    database = await openTestDatabase(kind, 'apikeys');
    store = createSqlApiKeyStore({ db: database.db });
    await store.createTable();
    await store.createTable(); // idempotent
  });
  afterAll(() => database.close());

  it('round-trips records, verifies keys and records last use', async () => {
    const apiKeys = createApiKeyService({ store, prefixes: ['acme'], peppers });
    const expiresAt = new Date(Date.now() + 86_400_000);
    const { key, record } = await apiKeys.createApiKey({
      scopes: ['a', 'b'],
      expiresAt,
      name: 'deploy',
      ownerId: 'u1',
    });
    expect(await store.findByKeyId(record.keyId)).toEqual(record);
    const verified = await apiKeys.verifyApiKey(key, { requiredScopes: ['b'] });
    expect(verified).toMatchObject({
      keyId: record.keyId,
      scopes: ['a', 'b'],
      expiresAt,
      name: 'deploy',
    });
    expect((await store.findByKeyId(record.keyId))?.lastUsedAt).toEqual(verified.lastUsedAt);
    expect(await store.findByKeyId('000000000000')).toBeUndefined();
  });

  it('refuses expired and revoked keys, and revokes once', async () => {
    const apiKeys = createApiKeyService({ store, prefixes: ['acme'], peppers });
    const expired = await apiKeys.createApiKey({ expiresAt: new Date(Date.now() - 1) });
    await expect(apiKeys.verifyApiKey(expired.key)).rejects.toMatchObject({
      code: 'ERR_API_KEY_EXPIRED',
    });
    const { key, record } = await apiKeys.createApiKey({ ownerId: 'u2' });
    expect(await apiKeys.revokeApiKey(record.keyId)).toBe(true);
    expect(await apiKeys.revokeApiKey(record.keyId)).toBe(false);
    await expect(apiKeys.verifyApiKey(key)).rejects.toMatchObject({ code: 'ERR_API_KEY_REVOKED' });
    const listed = await store.listByOwner('u2');
    expect(listed.map((r) => [r.keyId, r.revokedAt instanceof Date])).toEqual([
      [record.keyId, true],
    ]);
  });

  it('refuses a duplicate key id as the memory store does (ERR_KEY_EXISTS), keeping the first', async () => {
    const apiKeys = createApiKeyService({ store, prefixes: ['acme'], peppers });
    const { record } = await apiKeys.createApiKey({ name: 'first' });
    await expect(store.insert({ ...record, name: 'second' })).rejects.toMatchObject({
      code: 'ERR_KEY_EXISTS',
      message: `API key id ${record.keyId} already exists`,
    });
    expect(await store.findByKeyId(record.keyId)).toEqual(record);
  });
});
