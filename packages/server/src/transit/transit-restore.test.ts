import { LocalKms } from '@custos/core/kms';
import { malformedBackups } from '@custos/test-support/transit-backups';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

const NAME_RULE =
  'key names are 1-128 characters of A-Z a-z 0-9 . _ - and start with a letter or digit';

/** Valid backups to break: an aes key and an ed25519 key, two versions each. */
function sources() {
  const kms = new LocalKms();
  kms.createKey('restorable', { exportable: true, allowPlaintextBackup: true });
  kms.rotate('restorable');
  kms.createKey('restorable-signer', {
    type: 'ed25519',
    exportable: true,
    allowPlaintextBackup: true,
  });
  kms.rotate('restorable-signer');
  return { aes: kms.backup('restorable'), ed: kms.backup('restorable-signer') };
}

describe.each(await storageKinds())('transit restore checks everything first on %s', (kind) => {
  let s: TestServer;
  const { aes, ed } = sources();
  beforeAll(async () => {
    s = await startTestServer(kind);
    await s.request('POST', 'transit/keys/bystander', { body: {} });
  });
  afterAll(async () => {
    await s.close();
  });

  /** Every transit entry but the usage log: path and stored bytes. */
  const transitEntries = async () => {
    const rows = await s.server.context.storage.db
      .selectFrom('custos_entries')
      .select(['path', 'value'])
      .where('path', 'like', 'transit/%')
      .where('path', 'not like', 'transit/usage/%')
      .execute();
    return Object.fromEntries(
      rows.map((r) => [r.path, Buffer.from(r.value as Uint8Array).toString('base64')]),
    );
  };
  const keys = async () => (await s.request('GET', 'transit/keys?list=true')).body.data.keys;

  it('refuses every malformed backup with a 400 naming the field, and writes nothing', async () => {
    const before = await transitEntries();
    expect(Object.keys(before).sort()).toEqual([
      'transit/key/bystander/1',
      'transit/policy/bystander',
    ]);
    const results = [];
    for (const c of malformedBackups(aes, ed)) {
      const response = await s.request('POST', 'transit/restore', { body: { backup: c.blob } });
      results.push({
        case: c.case,
        status: response.status,
        names: (response.body?.errors?.[0] ?? '').startsWith(c.error),
      });
    }
    expect(results.filter((r) => r.status !== 400 || !r.names)).toEqual([]);
    expect(results.length).toBeGreaterThan(50);
    expect(await transitEntries()).toEqual(before);
    expect(await keys()).toEqual(['bystander']);
    for (const name of ['restorable', 'restorable-signer'])
      expect((await s.request('GET', `transit/keys/${name}`)).status).toBe(404);
  });

  it('refuses a name key creation would refuse, in the body or the path, and writes nothing', async () => {
    const before = await transitEntries();
    for (const name of ['', 'evil/1', '../../sys/policy/x', '.hidden', 'a'.repeat(129)]) {
      const response = await s.request('POST', 'transit/restore', {
        body: { backup: aes, name },
      });
      expect({ name, ...response }).toMatchObject({
        name,
        status: 400,
        body: { errors: [NAME_RULE] },
      });
    }
    for (const name of [42, null, ['a'], { x: 1 }]) {
      expect(
        (await s.request('POST', 'transit/restore', { body: { backup: aes, name } })).body.errors,
      ).toEqual(['name must be a string']);
    }
    for (const path of ['..%2F..%2Fsys%2Fpolicy%2Fx', 'evil%2F1', '.hidden', '-x']) {
      const response = await s.request('POST', `transit/restore/${path}`, {
        body: { backup: aes },
      });
      // Refused by the name rule, or earlier by the HTTP edge ('..' segments).
      expect({ path, status: response.status }).toEqual({ path, status: 400 });
    }
    expect(await transitEntries()).toEqual(before);
    expect(await keys()).toEqual(['bystander']);
  });

  it('restores a valid backup under its name or a valid new one, and refuses a taken name', async () => {
    expect((await s.request('POST', 'transit/restore', { body: { backup: aes } })).status).toBe(
      204,
    );
    expect(
      (await s.request('POST', 'transit/restore/copy.v2', { body: { backup: ed } })).status,
    ).toBe(204);
    expect(
      (await s.request('POST', 'transit/restore', { body: { backup: aes, name: 'bystander' } }))
        .body.errors,
    ).toEqual(['a key with that name already exists (force replaces it)']);
    expect(await keys()).toEqual(['bystander', 'copy.v2', 'restorable']);
    expect((await s.request('GET', 'transit/keys/copy.v2')).body.data).toMatchObject({
      name: 'copy.v2',
      type: 'ed25519',
      latest_version: 2,
    });
  });
});
