import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as hmac from '../crypto/hmac.js';
import { Secret } from '../redaction/secret.js';
import {
  type ApiKeyService,
  type ApiKeyStore,
  createApiKeyService,
  createMemoryApiKeyStore,
} from './index.js';

// Spies on the two secret-dependent operations, to show every failure does the same work.
vi.mock('../crypto/hmac.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../crypto/hmac.js')>();
  return {
    ...actual,
    hmacSha256: vi.fn(actual.hmacSha256),
    constantTimeEqual: vi.fn(actual.constantTimeEqual),
  };
});

const pepper1 = 'p1-pepper-0123456789abcdef0123456789abcdef';
const pepper2 = new Secret('p2-pepper-fedcba9876543210fedcba9876543210');

function countingStore(): ApiKeyStore & { lookups: number; size: number } {
  const inner = createMemoryApiKeyStore();
  const store = {
    lookups: 0,
    get size() {
      return inner.size;
    },
    insert: inner.insert,
    revoke: inner.revoke,
    touch: inner.touch,
    listByOwner: inner.listByOwner,
    findByKeyId(keyId: string) {
      store.lookups++;
      return inner.findByKeyId(keyId);
    },
  };
  return store;
}

describe('API key service', () => {
  let store: ReturnType<typeof countingStore>;
  let apiKeys: ApiKeyService;
  beforeEach(() => {
    store = countingStore();
    apiKeys = createApiKeyService({
      store,
      prefixes: ['acme', 'acme_test'],
      peppers: { currentId: 'p1', peppers: { p1: pepper1 } },
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('creates a key shown once, stores only its peppered HMAC, and verifies it', async () => {
    const { key, record } = await apiKeys.createApiKey({
      scopes: ['reports:read'],
      name: 'CI',
      ownerId: 'u1',
    });
    const text = key.reveal();
    expect(text).toMatch(/^acme_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$/);
    expect(String(key)).toBe('[REDACTED]');
    expect(record).toMatchObject({
      prefix: 'acme',
      pepperId: 'p1',
      scopes: ['reports:read'],
      revokedAt: null,
    });
    expect(record.hmac).toBe(hmac.hmacSha256(pepper1, text).toString('base64url'));
    expect(JSON.stringify(record)).not.toContain(text.split('_')[2]);

    const verified = await apiKeys.verifyApiKey(text, { requiredScopes: ['reports:read'] });
    expect(verified.keyId).toBe(record.keyId);
    expect(verified.lastUsedAt).toBeInstanceOf(Date);
    await expect(apiKeys.verifyApiKey(key)).resolves.toBeDefined();
    expect(await store.listByOwner('u1')).toHaveLength(1);
  });

  it('refuses each kind of bad key with its own error, never echoing the key', async () => {
    const { key, record } = await apiKeys.createApiKey({ scopes: ['read'] });
    const good = key.reveal();
    const expired = (
      await apiKeys.createApiKey({ expiresAt: new Date(Date.now() - 1000) })
    ).key.reveal();
    const revoked = (await apiKeys.createApiKey()).key.reveal();
    await apiKeys.revokeApiKey(revoked.split('_')[1] as string);
    const other = createApiKeyService({
      store: createMemoryApiKeyStore(),
      prefixes: ['other'],
      peppers: { currentId: 'p1', peppers: { p1: pepper1 } },
    });
    const wrongPrefix = (await other.createApiKey()).key.reveal();
    const unknownId = (
      await createApiKeyService({
        store: createMemoryApiKeyStore(),
        prefixes: ['acme'],
        peppers: { currentId: 'p1', peppers: { p1: pepper1 } },
      }).createApiKey()
    ).key.reveal();
    // Same key id, another random part with a valid checksum: a forgery against a real id.
    const forged = await forgeSameId(good);

    const cases: [string, string][] = [
      ['not-a-key', 'ERR_API_KEY_MALFORMED'],
      [`${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`, 'ERR_API_KEY_CHECKSUM'],
      [wrongPrefix, 'ERR_API_KEY_PREFIX'],
      [unknownId, 'ERR_API_KEY_UNKNOWN'],
      [forged, 'ERR_API_KEY_UNKNOWN'],
      [expired, 'ERR_API_KEY_EXPIRED'],
      [revoked, 'ERR_API_KEY_REVOKED'],
    ];
    for (const [presented, code] of cases) {
      const err = await apiKeys.verifyApiKey(presented).catch((e: Error) => e);
      expect(err, code).toMatchObject({ code, name: 'ApiKeyRejected' });
      expect(`${(err as Error).message} ${inspect(err)}`).not.toContain(presented);
    }
    await expect(apiKeys.verifyApiKey(good, { requiredScopes: ['write'] })).rejects.toMatchObject({
      code: 'ERR_API_KEY_SCOPE',
    });
    expect(record.keyId).toBe(good.split('_')[1]);
  });

  it('does the same secret-dependent work wherever a key is wrong (structural timing check)', async () => {
    const good = (await apiKeys.createApiKey()).key.reveal();
    const revoked = (await apiKeys.createApiKey()).key.reveal();
    await apiKeys.revokeApiKey(revoked.split('_')[1] as string);
    const presented = [
      good,
      'x'.repeat(10_000),
      'not-a-key',
      `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`,
      good.replace(/^acme/, 'zzzz'),
      await forgeSameId(good),
      revoked,
    ];
    for (const key of presented) {
      vi.mocked(hmac.hmacSha256).mockClear();
      vi.mocked(hmac.constantTimeEqual).mockClear();
      await apiKeys.verifyApiKey(key).catch(() => {});
      expect(hmac.hmacSha256, key).toHaveBeenCalledTimes(1);
      expect(hmac.constantTimeEqual, key).toHaveBeenCalledTimes(1);
      const [a, b] = vi.mocked(hmac.constantTimeEqual).mock.calls[0] as [Buffer, Buffer];
      expect([a.length, b.length]).toEqual([32, 32]);
    }
  });

  it('looks up exactly one record per verification, however many keys are stored (O(1))', async () => {
    const keys: string[] = [];
    for (let i = 0; i < 2000; i++) keys.push((await apiKeys.createApiKey()).key.reveal());
    expect(store.size).toBe(2000);
    store.lookups = 0;
    await apiKeys.verifyApiKey(keys[1999] as string);
    await apiKeys.verifyApiKey(keys[0] as string);
    expect(store.lookups).toBe(2);
  });

  it('keeps verifying keys made with an older pepper after the pepper rotates', async () => {
    const { key } = await apiKeys.createApiKey();
    const rotated = createApiKeyService({
      store,
      prefixes: ['acme'],
      peppers: { currentId: 'p2', peppers: { p1: pepper1, p2: pepper2 } },
    });
    await expect(rotated.verifyApiKey(key)).resolves.toMatchObject({ pepperId: 'p1' });
    expect((await rotated.createApiKey()).record.pepperId).toBe('p2');
    const dropped = createApiKeyService({
      store,
      prefixes: ['acme'],
      peppers: { currentId: 'p2', peppers: { p2: pepper2 } },
    });
    await expect(dropped.verifyApiKey(key)).rejects.toMatchObject({ code: 'ERR_PEPPER_UNKNOWN' });
  });

  it('writes lastUsedAt at most once per resolution window', async () => {
    vi.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z'), toFake: ['Date'] });
    const { key, record } = await apiKeys.createApiKey();
    const touch = vi.spyOn(store, 'touch');
    await apiKeys.verifyApiKey(key);
    await apiKeys.verifyApiKey(key);
    expect(touch).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(61_000);
    await apiKeys.verifyApiKey(key);
    expect(touch).toHaveBeenCalledTimes(2);
    expect((await store.findByKeyId(record.keyId))?.lastUsedAt?.toISOString()).toBe(
      '2030-01-01T00:01:01.000Z',
    );
  });

  it('refuses bad configuration', () => {
    const peppers = { currentId: 'p1', peppers: { p1: pepper1 } };
    expect(() => createApiKeyService({ store, prefixes: [], peppers })).toThrow(
      /at least one prefix/,
    );
    expect(() => createApiKeyService({ store, prefixes: ['Bad-Prefix'], peppers })).toThrow(
      /lowercase/,
    );
    expect(() =>
      createApiKeyService({
        store,
        prefixes: ['acme'],
        peppers: { currentId: 'p1', peppers: { p1: 'short' } },
      }),
    ).toThrow(/shorter than 32 bytes/);
  });
});

/** A key with the same prefix and key id as `key` but another random part, checksum fixed up. */
async function forgeSameId(key: string): Promise<string> {
  const { apiKeyChecksum } = await import('./index.js');
  const [prefix, keyId] = key.split('_');
  const body = `${prefix}_${keyId}_${'Z'.repeat(32)}`;
  return body + apiKeyChecksum(body);
}
