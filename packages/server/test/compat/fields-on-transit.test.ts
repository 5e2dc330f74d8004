import { createServer } from 'node:net';
import { createFieldCipher } from '@custos/core/fields';
import { createTransitClient, LocalKms, localKmsDataKeys, transitDataKeys } from '@custos/core/kms';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../harness.js';

describe.each(await storageKinds())('field ciphers on the transit KMS (%s)', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => {
    await s.close();
  });

  it('encrypt fields with per-tenant data keys wrapped by the server; tenants stay apart', async () => {
    await s.request('POST', 'transit/keys/phi', { body: {} });
    const fc = createFieldCipher({
      kms: transitDataKeys(createTransitClient({ address: s.url, auth: { token: 'root' } }), 'phi'),
    });
    const where = { table: 'patients', column: 'ssn', rowId: 42, tenantId: 'clinic-a' };
    const ct = await fc.encrypt('078-05-1120', where);
    expect(await fc.decrypt(ct, where)).toBe('078-05-1120');
    for (const value of [
      2n ** 64n + 7n,
      Buffer.from([0, 128, 255]),
      ['J45', { since: 2020 }],
      [],
    ]) {
      expect(await fc.decrypt(await fc.encrypt(value, where), where)).toStrictEqual(value);
    }
    // A wrong tenant fails as in keyring mode and on the local KMS: the server refuses to unwrap.
    await expect(fc.decrypt(ct, { ...where, tenantId: 'clinic-b' })).rejects.toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
      message: expect.stringMatching(/message authentication failed/),
    });
    await expect(fc.decrypt(ct, { ...where, rowId: 43 })).rejects.toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
    });
    const local = new LocalKms();
    local.createKey('phi');
    const onLocal = createFieldCipher({ kms: localKmsDataKeys(local, 'phi') });
    const localCt = await onLocal.encrypt('078-05-1120', where);
    await expect(
      onLocal.decrypt(localCt, { ...where, tenantId: 'clinic-b' }),
    ).rejects.toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
  });

  it('values written with the local KMS read back through the server once the key has moved', async () => {
    const kms = new LocalKms();
    kms.createKey('phi-local', { exportable: true, allowPlaintextBackup: true });
    const local = createFieldCipher({ kms: localKmsDataKeys(kms, 'phi-local') });
    const where = { table: 'visits', column: 'notes', rowId: 'v-1', tenantId: 7 };
    const ct = await local.encrypt({ diagnosis: 'J45', stable: true }, where);
    await s.request('POST', 'transit/restore', { body: { backup: kms.backup('phi-local') } });
    const remote = createFieldCipher({
      kms: transitDataKeys(
        createTransitClient({ address: s.url, auth: { token: 'root' } }),
        'phi-local',
      ),
    });
    expect(await remote.decrypt(ct, where)).toEqual({ diagnosis: 'J45', stable: true });
  });

  it('a KMS that cannot answer stays ERR_KMS_REMOTE: refused token, unreachable, sealed', async () => {
    await s.request('POST', 'transit/keys/phi-outage', { body: {} });
    const where = { table: 'patients', column: 'ssn', rowId: 1, tenantId: 'clinic-a' };
    const cipherAt = (address: string, token: string) =>
      createFieldCipher({
        kms: transitDataKeys(createTransitClient({ address, auth: { token } }), 'phi-outage'),
      });
    const ct = await cipherAt(s.url, 'root').encrypt('078-05-1120', where);
    // Fresh ciphers: nothing cached, so each decrypt has to ask the server.
    await expect(cipherAt(s.url, 'not-a-token').decrypt(ct, where)).rejects.toMatchObject({
      code: 'ERR_KMS_REMOTE',
      message: expect.stringMatching(/permission denied/),
    });
    const closed = new URL(s.url);
    closed.port = String(await freePort());
    await expect(cipherAt(closed.origin, 'root').decrypt(ct, where)).rejects.toMatchObject({
      code: 'ERR_KMS_REMOTE',
    });
    expect((await s.request('POST', 'sys/seal')).status).toBe(204);
    // The server seals once the response is sent: wait until it says so.
    await vi.waitFor(async () =>
      expect((await s.request('GET', 'sys/seal-status')).body.sealed).toBe(true),
    );
    await expect(cipherAt(s.url, 'root').decrypt(ct, where)).rejects.toMatchObject({
      code: 'ERR_KMS_REMOTE',
    });
  });
});

/** A port nothing listens on (taken, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
