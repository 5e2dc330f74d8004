import { createTransitClient, LocalKms, localKmsDataKeys, transitDataKeys } from '@custos/core/kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../harness.js';

describe.each(await storageKinds())('transit data keys for field ciphers on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => {
    await s.close();
  });

  it('wrap and unwrap on the server, bound to the tenant', async () => {
    const transit = createTransitClient({ address: s.url, auth: { token: 'root' } });
    await s.request('POST', 'transit/keys/field-keys', { body: {} });
    const keys = transitDataKeys(transit, 'field-keys');
    const { plaintext, wrapped } = await keys.generateDataKey({ tenantId: 'acme' });
    expect(wrapped).toMatch(/^vault:v1:/);
    expect(
      Buffer.from(await keys.unwrapDataKey(wrapped, { tenantId: 'acme' })).equals(
        Buffer.from(plaintext),
      ),
    ).toBe(true);
    // The server refuses (400): the same ERR_DECRYPTION_FAILED as the local KMS gives.
    await expect(keys.unwrapDataKey(wrapped, { tenantId: 'globex' })).rejects.toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
      message: expect.stringMatching(/message authentication failed/),
    });
    expect(keys.describeWrappedKey(wrapped)).toEqual({ keyId: 'field-keys', keyVersion: 1 });
    await s.request('POST', 'transit/keys/field-keys/rotate', { body: {} });
    expect(await keys.currentKey()).toEqual({ keyId: 'field-keys', keyVersion: 2 });
    await expect(
      transitDataKeys(
        createTransitClient({ address: s.url, auth: { token: 'wrong' } }),
        'field-keys',
      ).currentKey(),
    ).rejects.toMatchObject({
      code: 'ERR_KMS_REMOTE',
      message: expect.stringMatching(/permission denied/),
    });
  });

  it('data keys wrapped in-process unwrap on the server after the key moves there', async () => {
    const kms = new LocalKms();
    kms.createKey('moving-keys', { exportable: true, allowPlaintextBackup: true });
    const local = localKmsDataKeys(kms, 'moving-keys');
    const { plaintext, wrapped } = await local.generateDataKey({ tenantId: 7 });
    await s.request('POST', 'transit/restore', { body: { backup: kms.backup('moving-keys') } });
    const remote = transitDataKeys(
      createTransitClient({ address: s.url, auth: { token: 'root' } }),
      'moving-keys',
    );
    expect(
      Buffer.from(await remote.unwrapDataKey(wrapped, { tenantId: 7 })).equals(
        Buffer.from(plaintext),
      ),
    ).toBe(true);
    expect(await local.currentKey()).toEqual(await remote.currentKey());
  });
});
