import { describe, expect, it, vi } from 'vitest';
import { hmacSha256 } from '../crypto/hmac.js';
import {
  apiKeyChecksum,
  createApiKeyService,
  createMemoryApiKeyStore,
  generateApiKey,
} from './index.js';

// Calls through; lets a test see what the service feeds the HMAC.
vi.mock('../crypto/hmac.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../crypto/hmac.js')>();
  return { ...actual, hmacSha256: vi.fn(actual.hmacSha256) };
});

const pepper = 'refusal-pepper-0123456789abcdef0123456789';
const peppers = { currentId: 'p1', peppers: { p1: pepper } };
const LONGEST_PREFIX = 'a'.repeat(32);

function service(prefixes = ['acme', LONGEST_PREFIX]) {
  const store = createMemoryApiKeyStore();
  return { store, apiKeys: createApiKeyService({ store, prefixes, peppers }) };
}

describe('API key verification refusals', () => {
  it('verifies a key of the greatest length (a 32-character prefix)', async () => {
    const { apiKeys } = service();
    const { key, record } = await apiKeys.createApiKey({ prefix: LONGEST_PREFIX });
    expect(key.reveal()).toHaveLength(84);
    await expect(apiKeys.verifyApiKey(key)).resolves.toMatchObject({ keyId: record.keyId });
  });

  it('refuses a presented value that is not a string as malformed (a missing header, a repeated one)', async () => {
    const { apiKeys } = service();
    const { key } = await apiKeys.createApiKey();
    for (const value of [undefined, null, 42, [key.reveal()], { length: 3 }]) {
      await expect(
        apiKeys.verifyApiKey(value as unknown as string),
        String(value),
      ).rejects.toMatchObject({ code: 'ERR_API_KEY_MALFORMED', name: 'ApiKeyRejected' });
    }
  });

  it('never HMACs more of a presented key than the longest key', async () => {
    const { apiKeys } = service();
    const mac = vi.mocked(hmacSha256);
    const huge = `acme_${'A'.repeat(12)}_${'B'.repeat(100_000)}`;
    mac.mockClear();
    await expect(apiKeys.verifyApiKey(huge)).rejects.toMatchObject({
      code: 'ERR_API_KEY_MALFORMED',
    });
    expect(mac).toHaveBeenCalledTimes(1);
    expect(String(mac.mock.calls[0]?.[1]).length).toBeLessThanOrEqual(84);
  });

  it('names the foreign prefix, never the key', async () => {
    const { apiKeys } = service();
    const foreign = generateApiKey('other').key.reveal();
    const err = await apiKeys.verifyApiKey(foreign).catch((e: Error) => e);
    expect(err).toMatchObject({
      code: 'ERR_API_KEY_PREFIX',
      message: 'prefix "other" is not accepted here',
    });
  });

  it('says no stored key matches, for an unknown key id and for a wrong secret part', async () => {
    const { apiKeys } = service();
    const { record } = await apiKeys.createApiKey();
    const unknown = generateApiKey('acme').key.reveal();
    const body = `acme_${record.keyId}_${'Q'.repeat(32)}`;
    for (const key of [unknown, body + apiKeyChecksum(body)]) {
      await expect(apiKeys.verifyApiKey(key)).rejects.toMatchObject({
        code: 'ERR_API_KEY_UNKNOWN',
        message: 'no stored API key matches',
      });
    }
  });

  it('names the pepper a stored key needs when it is no longer configured', async () => {
    const { store, apiKeys } = service();
    const { key } = await apiKeys.createApiKey();
    const rotated = createApiKeyService({
      store,
      prefixes: ['acme'],
      peppers: { currentId: 'p2', peppers: { p2: `${pepper}-2` } },
    });
    await expect(rotated.verifyApiKey(key)).rejects.toMatchObject({
      code: 'ERR_PEPPER_UNKNOWN',
      message: 'pepper "p1" is not configured',
    });
  });
});
