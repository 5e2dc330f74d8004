import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../harness.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const text = (base64: string) => Buffer.from(base64, 'base64').toString();

describe.each(await storageKinds())('node-vault driving transit on %s', (kind) => {
  let s: TestServer;
  let vault: ReturnType<typeof nodeVault>;
  beforeAll(async () => {
    s = await startTestServer(kind);
    vault = nodeVault({ endpoint: s.url, token: 'root' });
  });
  afterAll(async () => {
    await s.close();
  });

  it('create, encrypt, decrypt, rotate, rewrap, datakey, config, batch, list, delete', async () => {
    await vault.transitCreateKey({ name: 'payments' });
    const { data: encrypted } = await vault.encryptData({
      name: 'payments',
      plaintext: b64('4111 1111 1111 1111'),
    });
    expect(encrypted.ciphertext).toMatch(/^vault:v1:/);
    expect(
      text(
        (await vault.decryptData({ name: 'payments', ciphertext: encrypted.ciphertext })).data
          .plaintext,
      ),
    ).toBe('4111 1111 1111 1111');

    const rotated = await vault.write('transit/keys/payments/rotate', {});
    expect(rotated.data.latest_version).toBe(2);
    const rewrapped = await vault.rewrapData({
      name: 'payments',
      ciphertext: encrypted.ciphertext,
    });
    expect(rewrapped.data.ciphertext).toMatch(/^vault:v2:/);
    expect(
      text(
        (await vault.decryptData({ name: 'payments', ciphertext: rewrapped.data.ciphertext })).data
          .plaintext,
      ),
    ).toBe('4111 1111 1111 1111');

    const dataKey = await vault.write('transit/datakey/plaintext/payments', { bits: 256 });
    expect(Buffer.from(dataKey.data.plaintext, 'base64')).toHaveLength(32);
    expect(
      (await vault.decryptData({ name: 'payments', ciphertext: dataKey.data.ciphertext })).data
        .plaintext,
    ).toBe(dataKey.data.plaintext);

    await vault.write('transit/keys/payments/config', {
      min_decryption_version: 2,
      deletion_allowed: true,
    });
    const key = await vault.transitReadKey({ name: 'payments' });
    expect(key.data).toMatchObject({
      min_decryption_version: 2,
      deletion_allowed: true,
      latest_version: 2,
    });
    await expect(
      vault.decryptData({ name: 'payments', ciphertext: encrypted.ciphertext }),
    ).rejects.toThrow('ciphertext or signature version is disallowed by policy (too old)');

    const batch = await vault.encryptData({
      name: 'payments',
      batch_input: [
        { plaintext: b64('a'), reference: 'one' },
        { plaintext: b64('b'), reference: 'two' },
      ],
    });
    expect(batch.data.batch_results.map((r: { reference: string }) => r.reference)).toEqual([
      'one',
      'two',
    ]);
    const decrypted = await vault.decryptData({
      name: 'payments',
      batch_input: batch.data.batch_results.map((r: { ciphertext: string }) => ({
        ciphertext: r.ciphertext,
      })),
    });
    expect(
      decrypted.data.batch_results.map((r: { plaintext: string }) => text(r.plaintext)),
    ).toEqual(['a', 'b']);

    expect((await vault.transitListKeys()).data.keys).toEqual(['payments']);
    await vault.transitDeleteKey({ name: 'payments' });
    // node-vault's error carries the HTTP response: the key is gone (404), not an error page.
    await expect(vault.transitReadKey({ name: 'payments' })).rejects.toMatchObject({
      response: { statusCode: 404 },
    });
  });
});
