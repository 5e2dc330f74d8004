import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const TOO_OLD = 'ciphertext or signature version is disallowed by policy (too old)';
const BELOW_FLOOR = 'version for export is below minimum decryption version';
const BELOW_MIN_ENCRYPTION =
  'requested version for encryption is less than the minimum encryption key version';

/**
 * Versions below `min_decryption_version` are retired: no operation releases their material or
 * anything made with it — decryption, export (full or by version), HMAC, signatures, rewrap,
 * data keys, the public keys in the key's description. Backups stay whole (they restore).
 */
describe.each(await storageKinds())('versions below min_decryption_version on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => {
    await s.close();
  });

  /** Creates an exportable key, uses version 1, rotates to 2 and raises the floor to 2. */
  const retireVersionOne = async (name: string, body: Record<string, unknown>) => {
    expect((await s.request('POST', `transit/keys/${name}`, { body })).status).toBe(200);
    const made = {
      ciphertext:
        body.type === undefined
          ? (await s.request('POST', `transit/encrypt/${name}`, { body: { plaintext: b64('v1') } }))
              .body.data.ciphertext
          : undefined,
      hmac: (await s.request('POST', `transit/hmac/${name}`, { body: { input: b64('v1') } })).body
        .data.hmac as string,
      signature:
        body.type === 'ecdsa-p256'
          ? (await s.request('POST', `transit/sign/${name}`, { body: { input: b64('v1') } })).body
              .data.signature
          : undefined,
    };
    await s.request('POST', `transit/keys/${name}/rotate`);
    const config = await s.request('POST', `transit/keys/${name}/config`, {
      body: { min_decryption_version: 2 },
    });
    expect(config.body.data.min_decryption_version).toBe(2);
    return made;
  };

  const exported = (path: string) => s.request('GET', `transit/export/${path}`);

  it('export of an encryption key: a full export holds only versions that decrypt, version 1 is refused', async () => {
    const { ciphertext } = await retireVersionOne('floor-aes', { exportable: true });
    expect(
      (await s.request('POST', 'transit/decrypt/floor-aes', { body: { ciphertext } })).body,
    ).toEqual({ errors: [TOO_OLD] });

    for (const type of ['encryption-key', 'hmac-key']) {
      const full = await exported(`${type}/floor-aes`);
      expect(full.status).toBe(200);
      expect(Object.keys(full.body.data.keys)).toEqual(['2']);
      for (const version of ['1', 'v1']) {
        expect(await exported(`${type}/floor-aes/${version}`)).toMatchObject({
          status: 400,
          body: { errors: [BELOW_FLOOR] },
        });
      }
      expect(Object.keys((await exported(`${type}/floor-aes/latest`)).body.data.keys)).toEqual([
        '2',
      ]);
      expect(Object.keys((await exported(`${type}/floor-aes/2`)).body.data.keys)).toEqual(['2']);
      expect(await exported(`${type}/floor-aes/3`)).toMatchObject({
        status: 400,
        body: { errors: ['version does not exist or cannot be found'] },
      });
      expect(await exported(`${type}/floor-aes/one`)).toMatchObject({
        status: 400,
        body: { errors: ['invalid key version'] },
      });
    }
    // The description lists only the versions that decrypt, as Vault's does.
    const info = (await s.request('GET', 'transit/keys/floor-aes')).body.data;
    expect(Object.keys(info.keys)).toEqual(['2']);
  });

  it('HMAC, encrypt, rewrap and data keys never use version 1 again', async () => {
    const { ciphertext, hmac } = await retireVersionOne('floor-ops', { exportable: true });
    const post = (path: string, body: Record<string, unknown>) =>
      s.request('POST', `transit/${path}`, { body });

    expect((await post('hmac/floor-ops', { input: b64('x'), key_version: 1 })).body).toEqual({
      errors: [BELOW_MIN_ENCRYPTION],
    });
    expect(
      (await post('hmac/floor-ops', { batch_input: [{ input: b64('x'), key_version: 1 }] })).body
        .data.batch_results[0].error,
    ).toBe(BELOW_MIN_ENCRYPTION);
    expect((await post('hmac/floor-ops', { input: b64('x'), key_version: 2 })).status).toBe(200);
    expect((await post('verify/floor-ops', { input: b64('v1'), hmac })).body).toEqual({
      errors: [TOO_OLD],
    });
    expect((await post('encrypt/floor-ops', { plaintext: b64('x'), key_version: 1 })).body).toEqual(
      { errors: [BELOW_MIN_ENCRYPTION] },
    );
    expect((await post('rewrap/floor-ops', { ciphertext })).body).toEqual({ errors: [TOO_OLD] });
    const fresh = (await post('encrypt/floor-ops', { plaintext: b64('y') })).body.data.ciphertext;
    expect((await post('rewrap/floor-ops', { ciphertext: fresh, key_version: 1 })).body).toEqual({
      errors: [BELOW_MIN_ENCRYPTION],
    });
    for (const type of ['plaintext', 'wrapped']) {
      const key = await post(`datakey/${type}/floor-ops`, {});
      expect(key.body.data.key_version).toBe(2);
      expect(key.body.data.ciphertext).toMatch(/^vault:v2:/);
    }
  });

  it('signing keys: no signature with version 1, no verification of its signatures, no export of either half', async () => {
    const { signature } = await retireVersionOne('floor-sig', {
      type: 'ecdsa-p256',
      exportable: true,
    });
    const post = (path: string, body: Record<string, unknown>) =>
      s.request('POST', `transit/${path}`, { body });
    expect((await post('sign/floor-sig', { input: b64('x'), key_version: 1 })).body).toEqual({
      errors: [BELOW_MIN_ENCRYPTION],
    });
    expect((await post('verify/floor-sig', { input: b64('v1'), signature })).body).toEqual({
      errors: [TOO_OLD],
    });
    for (const type of ['signing-key', 'public-key', 'hmac-key']) {
      expect(Object.keys((await exported(`${type}/floor-sig`)).body.data.keys)).toEqual(['2']);
      expect(await exported(`${type}/floor-sig/1`)).toMatchObject({
        status: 400,
        body: { errors: [BELOW_FLOOR] },
      });
    }
    const info = (await s.request('GET', 'transit/keys/floor-sig')).body.data;
    expect(Object.keys(info.keys)).toEqual(['2']);
    expect(info.keys['2'].public_key).toMatch(/BEGIN PUBLIC KEY/);
  });

  it('a backup stays whole (it restores the key as it is), and the restored key keeps the floor', async () => {
    await retireVersionOne('floor-backup', { exportable: true, allow_plaintext_backup: true });
    const backup = (await s.request('GET', 'transit/backup/floor-backup')).body.data.backup;
    const { versions } = JSON.parse(Buffer.from(backup, 'base64').toString()) as {
      versions: { version: number }[];
    };
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
    await s.request('POST', 'transit/restore/floor-restored', { body: { backup } });
    expect(await exported('encryption-key/floor-restored/1')).toMatchObject({
      status: 400,
      body: { errors: [BELOW_FLOOR] },
    });
    // Lowering the floor again (the key is not revoked) brings version 1 back, as in Vault.
    await s.request('POST', 'transit/keys/floor-restored/config', {
      body: { min_decryption_version: 1 },
    });
    expect(
      Object.keys((await exported('encryption-key/floor-restored')).body.data.keys).sort(),
    ).toEqual(['1', '2']);
  });
});
