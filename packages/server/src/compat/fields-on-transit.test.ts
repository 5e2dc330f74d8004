import { createFieldCipher } from '@custos/core/fields';
import { createTransitClient, LocalKms, localKmsDataKeys, transitDataKeys } from '@custos/core/kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../test-harness.js';

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
    await expect(fc.decrypt(ct, { ...where, tenantId: 'clinic-b' })).rejects.toMatchObject({
      code: 'ERR_KMS_REMOTE',
      message: expect.stringMatching(/message authentication failed/),
    });
    await expect(fc.decrypt(ct, { ...where, rowId: 43 })).rejects.toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
    });
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
});
