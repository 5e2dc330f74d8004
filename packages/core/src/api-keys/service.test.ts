import * as nodeCrypto from 'node:crypto';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hmacSha256 } from '../crypto/hmac.js';
import { Secret } from '../redaction/secret.js';
import {
  type ApiKeyService,
  type ApiKeyStore,
  apiKeyChecksum,
  createApiKeyService,
  createMemoryApiKeyStore,
} from './index.js';

// Spies (calling through) on the two secret-dependent primitives at their source, node:crypto,
// so the structural timing test counts every HMAC and every constant-time comparison made.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return {
    ...actual,
    createHmac: vi.fn(actual.createHmac),
    timingSafeEqual: vi.fn(actual.timingSafeEqual),
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
    expect(record.hmac).toBe(hmacSha256(pepper1, text).toString('base64url'));
    expect(JSON.stringify(record)).not.toContain(text.split('_')[2]);

    const verified = await apiKeys.verifyApiKey(text, { requiredScopes: ['reports:read'] });
    expect(verified.keyId).toBe(record.keyId);
    expect(verified.lastUsedAt).toBeInstanceOf(Date);
    await expect(apiKeys.verifyApiKey(key)).resolves.toMatchObject({
      keyId: record.keyId,
      scopes: ['reports:read'],
      ownerId: 'u1',
    });
    expect(await store.listByOwner('u1')).toHaveLength(1);
  });

  // A key must hold every required scope: one of them is not enough.
  it.each([
    { held: ['read', 'write'], required: ['read', 'write'], missing: [] },
    { held: ['read', 'write', 'admin'], required: ['write', 'read'], missing: [] },
    { held: ['read', 'write'], required: [], missing: [] },
    { held: ['read'], required: ['read', 'write'], missing: ['write'] },
    { held: ['write'], required: ['read', 'write'], missing: ['read'] },
    { held: ['read'], required: ['write', 'read', 'admin'], missing: ['write', 'admin'] },
    { held: [], required: ['read', 'write'], missing: ['read', 'write'] },
    { held: ['read:all'], required: ['read'], missing: ['read'] },
    { held: ['Read', 'write'], required: ['read', 'write'], missing: ['read'] },
  ])(
    'holding $held, requiring $required: missing $missing',
    async ({ held, required, missing }) => {
      const { key, record } = await apiKeys.createApiKey({ scopes: held });
      const result = apiKeys.verifyApiKey(key.reveal(), { requiredScopes: required });
      if (missing.length === 0) {
        await expect(result).resolves.toMatchObject({ keyId: record.keyId, scopes: held });
      } else {
        await expect(result).rejects.toMatchObject({
          code: 'ERR_API_KEY_SCOPE',
          message: `API key ${record.keyId} lacks scope ${missing.join(', ')}`,
        });
      }
    },
  );

  it('refuses each kind of bad key with its own error, never echoing the key', async () => {
    for (const { label, key, code, options } of await refusalCases(apiKeys)) {
      const err = await apiKeys.verifyApiKey(key, options).catch((e: Error) => e);
      expect(err, label).toMatchObject({ code, name: 'ApiKeyRejected' });
      expect(`${(err as Error).message} ${inspect(err)}`, label).not.toContain(key);
    }
  });

  it('does the same secret-dependent work wherever a key is wrong (structural timing check)', async () => {
    const createHmac = vi.mocked(nodeCrypto.createHmac);
    const timingSafeEqual = vi.mocked(nodeCrypto.timingSafeEqual);
    const good = (await apiKeys.createApiKey()).key.reveal();
    const cases = [
      ...(await refusalCases(apiKeys)),
      { label: 'valid', key: good, code: undefined, options: {}, reachesStore: true },
    ];
    for (const { label, key, code, options, reachesStore } of cases) {
      store.lookups = 0;
      createHmac.mockClear();
      timingSafeEqual.mockClear();
      const outcome = await apiKeys.verifyApiKey(key, options).catch((e: { code: string }) => e);
      expect((outcome as { code?: string }).code, label).toBe(code);
      // The key id is public and the checksum is public arithmetic, so refusing a malformed
      // key, a bad checksum or a foreign prefix without a lookup leaks nothing; every path
      // that reaches storage looks up exactly once.
      expect(store.lookups, label).toBe(reachesStore ? 1 : 0);
      expect(createHmac, label).toHaveBeenCalledTimes(1);
      expect(timingSafeEqual, label).toHaveBeenCalledTimes(1);
      // Two distinct 32-byte buffers: a real comparison (the stand-in when there is no usable
      // record), not the length-mismatch path that compares a buffer with itself.
      const [a, b] = timingSafeEqual.mock.calls[0] as [Buffer, Buffer];
      expect([a.length, b.length], label).toEqual([32, 32]);
      expect(a, label).not.toBe(b);
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
    // Refused as a configuration error, after the same work as any refusal (HMAC under the
    // current pepper, compared with the stand-in), so dropping a pepper opens no timing gap.
    const createHmac = vi.mocked(nodeCrypto.createHmac);
    const timingSafeEqual = vi.mocked(nodeCrypto.timingSafeEqual);
    createHmac.mockClear();
    timingSafeEqual.mockClear();
    await expect(dropped.verifyApiKey(key)).rejects.toMatchObject({ code: 'ERR_PEPPER_UNKNOWN' });
    expect(createHmac).toHaveBeenCalledTimes(1);
    expect(timingSafeEqual).toHaveBeenCalledTimes(1);
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

interface RefusalCase {
  readonly label: string;
  readonly key: string;
  readonly code: string;
  readonly options: { requiredScopes?: readonly string[] };
  /** Whether the service gets as far as looking the key id up. */
  readonly reachesStore: boolean;
}

/** One presented key per way of being wrong, made against `apiKeys` (prefix `acme`). */
async function refusalCases(apiKeys: ApiKeyService): Promise<RefusalCase[]> {
  const peppers = { currentId: 'p1', peppers: { p1: pepper1 } };
  const good = (await apiKeys.createApiKey({ scopes: ['read'] })).key.reveal();
  const expired = (
    await apiKeys.createApiKey({ expiresAt: new Date(Date.now() - 1000) })
  ).key.reveal();
  const revoked = (await apiKeys.createApiKey()).key.reveal();
  await apiKeys.revokeApiKey(revoked.split('_')[1] as string);
  const foreign = createApiKeyService({
    store: createMemoryApiKeyStore(),
    prefixes: ['other'],
    peppers,
  });
  // Well-formed, accepted prefix, valid checksum, but its key id is in another store.
  const elsewhere = createApiKeyService({
    store: createMemoryApiKeyStore(),
    prefixes: ['acme'],
    peppers,
  });
  const refused = (
    label: string,
    key: string,
    code: string,
    reachesStore: boolean,
    options = {},
  ): RefusalCase => ({ label, key, code, options, reachesStore });
  return [
    refused('malformed', 'not-a-key', 'ERR_API_KEY_MALFORMED', false),
    refused('oversized', 'x'.repeat(10_000), 'ERR_API_KEY_MALFORMED', false),
    refused('checksum mismatch', flipLast(good), 'ERR_API_KEY_CHECKSUM', false),
    refused('prefix changed', good.replace(/^acme/, 'zzzz'), 'ERR_API_KEY_CHECKSUM', false),
    refused(
      'foreign prefix',
      (await foreign.createApiKey()).key.reveal(),
      'ERR_API_KEY_PREFIX',
      false,
    ),
    refused(
      'unknown key id',
      (await elsewhere.createApiKey()).key.reveal(),
      'ERR_API_KEY_UNKNOWN',
      true,
    ),
    refused('wrong random part', forgeSameId(good), 'ERR_API_KEY_UNKNOWN', true),
    // Without the secret part, a revoked or expired key id is indistinguishable from a wrong one.
    refused('wrong random part, revoked id', forgeSameId(revoked), 'ERR_API_KEY_UNKNOWN', true),
    refused('wrong random part, expired id', forgeSameId(expired), 'ERR_API_KEY_UNKNOWN', true),
    refused('expired', expired, 'ERR_API_KEY_EXPIRED', true),
    refused('revoked', revoked, 'ERR_API_KEY_REVOKED', true),
    refused('missing scope', good, 'ERR_API_KEY_SCOPE', true, { requiredScopes: ['write'] }),
  ];
}

function flipLast(key: string): string {
  return `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
}

/** A key with the same prefix and key id as `key` but another random part, checksum fixed up. */
function forgeSameId(key: string): string {
  const [prefix, keyId] = key.split('_');
  const body = `${prefix}_${keyId}_${'Z'.repeat(32)}`;
  return body + apiKeyChecksum(body);
}
