import { describe, expect, it } from 'vitest';
import { createApiKeyService, createMemoryApiKeyStore, parseApiKey } from './index.js';

const peppers = { currentId: 'p1', peppers: { p1: 'create-pepper-0123456789abcdef0123456789' } };

function service() {
  const store = createMemoryApiKeyStore();
  return { store, apiKeys: createApiKeyService({ store, prefixes: ['acme', 'acme_ci'], peppers }) };
}

describe('API key creation', () => {
  it('issues under the first prefix by default, or under another of the service', async () => {
    const { apiKeys } = service();
    const byDefault = await apiKeys.createApiKey();
    expect(parseApiKey(byDefault.key.reveal()).prefix).toBe('acme');
    expect(byDefault.record.prefix).toBe('acme');
    const ci = await apiKeys.createApiKey({ prefix: 'acme_ci' });
    expect(parseApiKey(ci.key.reveal()).prefix).toBe('acme_ci');
    expect(ci.record.prefix).toBe('acme_ci');
  });

  it('refuses a prefix the service does not accept, storing nothing', async () => {
    const { store, apiKeys } = service();
    await expect(apiKeys.createApiKey({ prefix: 'other' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: `prefix "other" is not one of this service's prefixes`,
    });
    expect(store.size).toBe(0);
  });

  it('stores no scopes unless given, and the scopes given otherwise', async () => {
    const { apiKeys, store } = service();
    const bare = await apiKeys.createApiKey();
    expect(bare.record.scopes).toEqual([]);
    expect((await store.findByKeyId(bare.record.keyId))?.scopes).toEqual([]);
    await expect(apiKeys.verifyApiKey(bare.key)).resolves.toMatchObject({ scopes: [] });
    const scoped = await apiKeys.createApiKey({ scopes: ['a', 'b:c'] });
    expect(scoped.record.scopes).toEqual(['a', 'b:c']);
  });

  it('refuses an empty scope or one that is not a string, storing nothing', async () => {
    const { store, apiKeys } = service();
    for (const scopes of [[''], ['read', ''], [42], ['read', null], [['read']]]) {
      await expect(
        apiKeys.createApiKey({ scopes: scopes as unknown as string[] }),
        JSON.stringify(scopes),
      ).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
        message: 'scopes must be non-empty strings',
      });
    }
    expect(store.size).toBe(0);
  });
});
