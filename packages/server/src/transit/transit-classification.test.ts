import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';

const ALLOWED = 'must be one of PHI, PII, credential, payment, internal';

// Labels live in the key's policy, stored as the rest of it: no storage difference to cover.
describe('transit key labels (custom_metadata, data_class)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite');
    expect(
      (await s.request('POST', 'sys/mounts/care/keys/transit', { body: { type: 'transit' } }))
        .status,
    ).toBe(204);
  });
  afterAll(async () => {
    await s.close();
  });

  it('a key has none until keys/:name/config sets them; the class is canonically spelled', async () => {
    await s.request('POST', 'transit/keys/records');
    expect((await s.request('GET', 'transit/keys/records')).body.data.custom_metadata).toBeNull();
    const set = await s.request('POST', 'transit/keys/records/config', {
      body: { custom_metadata: { data_class: 'phi', owner: 'care' } },
    });
    expect(set.status).toBe(200);
    expect(set.body.data.custom_metadata).toEqual({ data_class: 'PHI', owner: 'care' });
    // Other settings in the same request still apply; labels survive a later config change.
    await s.request('POST', 'transit/keys/records/config', { body: { deletion_allowed: true } });
    const read = (await s.request('GET', 'transit/keys/records')).body.data;
    expect(read.custom_metadata).toEqual({ data_class: 'PHI', owner: 'care' });
    expect(read.deletion_allowed).toBe(true);
  });

  it('merges: a label given replaces, null removes, the last one removed leaves null', async () => {
    await s.request('POST', 'transit/keys/merging');
    const config = (custom: unknown) =>
      s.request('POST', 'transit/keys/merging/config', { body: { custom_metadata: custom } });
    await config({ data_class: 'payment', team: 'billing' });
    expect((await config({ data_class: 'PII' })).body.data.custom_metadata).toEqual({
      data_class: 'PII',
      team: 'billing',
    });
    expect((await config({ team: null })).body.data.custom_metadata).toEqual({ data_class: 'PII' });
    expect((await config({ data_class: null })).body.data.custom_metadata).toBeNull();
  });

  it('refuses an unknown class, a wrong shape or a label at creation with a 400, changing nothing', async () => {
    await s.request('POST', 'transit/keys/refusing');
    await s.request('POST', 'transit/keys/refusing/config', {
      body: { custom_metadata: { data_class: 'credential' } },
    });
    const canary = `class-canary-${Date.now()}`;
    for (const [body, message] of [
      [{ custom_metadata: { data_class: canary } }, `custom_metadata.data_class ${ALLOWED}`],
      [{ custom_metadata: { data_class: 'PHI ' } }, ALLOWED],
      [
        { custom_metadata: { data_class: 'PHI' }, min_decryption_version: 9 },
        'min_decryption_version',
      ],
      [{ custom_metadata: 'PHI' }, 'custom_metadata validation failed'],
      [{ custom_metadata: null }, 'custom_metadata validation failed'],
      [{ custom_metadata: { data_class: { nested: 1 } } }, 'must be a string'],
    ] as const) {
      const response = await s.request('POST', 'transit/keys/refusing/config', { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.errors[0]).toContain(message);
      expect(response.text).not.toContain(canary);
    }
    expect((await s.request('GET', 'transit/keys/refusing')).body.data.custom_metadata).toEqual({
      data_class: 'credential',
    });
    const atCreation = await s.request('POST', 'transit/keys/labelled-at-birth', {
      body: { custom_metadata: { data_class: 'PHI' } },
    });
    expect(atCreation.status).toBe(400);
    expect(atCreation.body.errors[0]).toContain('custom_metadata is set at keys/:name/config');
    expect((await s.request('GET', 'transit/keys/labelled-at-birth')).status).toBe(404);
  });

  it('works on a mount of several segments, and a backup carries the labels to a restore', async () => {
    await s.request('POST', 'care/keys/transit/keys/exported', {
      body: { exportable: true, allow_plaintext_backup: true },
    });
    await s.request('POST', 'care/keys/transit/keys/exported/config', {
      body: { custom_metadata: { data_class: 'Payment' } },
    });
    const backup = await s.request('GET', 'care/keys/transit/backup/exported');
    expect(backup.status).toBe(200);
    const restored = await s.request('POST', 'transit/restore/from-backup', {
      body: { backup: backup.body.data.backup },
    });
    expect(restored.status).toBe(204);
    expect((await s.request('GET', 'transit/keys/from-backup')).body.data.custom_metadata).toEqual({
      data_class: 'payment',
    });
  });
});
