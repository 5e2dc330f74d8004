import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ApiKeyService,
  type ApiKeyStore,
  createApiKeyService,
  createMemoryApiKeyStore,
} from './index.js';

const peppers = { currentId: 'p1', peppers: { p1: 'times-pepper-0123456789abcdef0123456789ab' } };
const START = new Date('2030-01-01T00:00:00Z');

describe('API key times: revocation, expiry and last use', () => {
  let store: ApiKeyStore;
  let apiKeys: ApiKeyService;
  beforeEach(() => {
    vi.useFakeTimers({ now: START, toFake: ['Date'] });
    store = createMemoryApiKeyStore();
    apiKeys = createApiKeyService({ store, prefixes: ['acme'], peppers });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses a key from the instant of its expiry, not before', async () => {
    const expiresAt = new Date(START.getTime() + 10_000);
    const { key, record } = await apiKeys.createApiKey({ expiresAt });
    vi.setSystemTime(expiresAt.getTime() - 1);
    await expect(apiKeys.verifyApiKey(key)).resolves.toMatchObject({ keyId: record.keyId });
    vi.setSystemTime(expiresAt);
    await expect(apiKeys.verifyApiKey(key)).rejects.toMatchObject({
      code: 'ERR_API_KEY_EXPIRED',
      message: `API key ${record.keyId} expired at 2030-01-01T00:00:10.000Z`,
    });
  });

  it('refuses a key from the instant of its revocation, not before', async () => {
    const { key, record } = await apiKeys.createApiKey();
    // A store shared with other instances may hold a revocation time ahead of this clock.
    const revokedAt = new Date(START.getTime() + 5_000);
    expect(await store.revoke(record.keyId, revokedAt)).toBe(true);
    await expect(apiKeys.verifyApiKey(key)).resolves.toMatchObject({ keyId: record.keyId });
    vi.setSystemTime(revokedAt);
    await expect(apiKeys.verifyApiKey(key)).rejects.toMatchObject({
      code: 'ERR_API_KEY_REVOKED',
      message: `API key ${record.keyId} has been revoked`,
    });
  });

  it('revokes through the service at the current time', async () => {
    const { key, record } = await apiKeys.createApiKey();
    expect(await apiKeys.revokeApiKey(record.keyId)).toBe(true);
    expect((await store.findByKeyId(record.keyId))?.revokedAt).toEqual(START);
    await expect(apiKeys.verifyApiKey(key)).rejects.toMatchObject({ code: 'ERR_API_KEY_REVOKED' });
  });

  it('writes the last use when a whole resolution window (default 60 s) has passed, not sooner', async () => {
    const { key, record } = await apiKeys.createApiKey();
    const touch = vi.spyOn(store, 'touch');
    await expect(apiKeys.verifyApiKey(key)).resolves.toMatchObject({ lastUsedAt: START });
    expect(touch).toHaveBeenCalledTimes(1);
    vi.setSystemTime(START.getTime() + 59_999);
    await expect(apiKeys.verifyApiKey(key)).resolves.toMatchObject({ lastUsedAt: START });
    expect(touch).toHaveBeenCalledTimes(1);
    const later = new Date(START.getTime() + 60_000);
    vi.setSystemTime(later);
    await expect(apiKeys.verifyApiKey(key)).resolves.toMatchObject({ lastUsedAt: later });
    expect(touch).toHaveBeenCalledTimes(2);
    expect((await store.findByKeyId(record.keyId))?.lastUsedAt).toEqual(later);
  });

  it('counts the resolution window in seconds', async () => {
    const hourly = createApiKeyService({
      store,
      prefixes: ['acme'],
      peppers,
      lastUsedResolutionSeconds: 3600,
    });
    const { key, record } = await hourly.createApiKey();
    await hourly.verifyApiKey(key);
    vi.setSystemTime(START.getTime() + 3_599_999);
    await hourly.verifyApiKey(key);
    expect((await store.findByKeyId(record.keyId))?.lastUsedAt).toEqual(START);
    vi.setSystemTime(START.getTime() + 3_600_000);
    await hourly.verifyApiKey(key);
    expect((await store.findByKeyId(record.keyId))?.lastUsedAt).toEqual(
      new Date(START.getTime() + 3_600_000),
    );
  });
});
