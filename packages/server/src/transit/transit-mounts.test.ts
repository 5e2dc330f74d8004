import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hclPolicy, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe.each(await storageKinds())('transit at any mount path on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
    expect(
      (await s.request('POST', 'sys/mounts/other-transit', { body: { type: 'transit' } })).status,
    ).toBe(204);
  });
  afterAll(async () => {
    await s.close();
  });

  it('lists the new mount as a transit engine and serves every transit route there', async () => {
    const mount = await s.request('GET', 'sys/mounts/other-transit');
    expect(mount.body.data).toMatchObject({ type: 'transit' });
    expect((await s.request('POST', 'other-transit/keys/served')).status).toBe(200);
    const encrypted = await s.request('POST', 'other-transit/encrypt/served', {
      body: { plaintext: b64('hello') },
    });
    expect(encrypted.status).toBe(200);
    const decrypted = await s.request('POST', 'other-transit/decrypt/served', {
      body: { ciphertext: encrypted.body.data.ciphertext },
    });
    expect(Buffer.from(decrypted.body.data.plaintext, 'base64').toString()).toBe('hello');
    expect((await s.request('POST', 'other-transit/keys/served/rotate')).status).toBe(200);
    expect((await s.request('GET', 'other-transit/keys/served')).body.data.latest_version).toBe(2);
    expect((await s.request('GET', 'other-transit/wrapping_key')).status).toBe(200);
    expect((await s.request('POST', 'other-transit/random/16')).status).toBe(200);
  });

  it('keeps each mount its own key namespace, both ways', async () => {
    expect((await s.request('POST', 'transit/keys/only-default')).status).toBe(200);
    expect((await s.request('POST', 'other-transit/keys/only-other')).status).toBe(200);
    // A key of one mount is unknown at the other: reads 404, list shows only the mount's own.
    expect((await s.request('GET', 'other-transit/keys/only-default')).status).toBe(404);
    expect((await s.request('GET', 'transit/keys/only-other')).status).toBe(404);
    const otherKeys = (await s.request('LIST', 'other-transit/keys')).body.data.keys as string[];
    const defaultKeys = (await s.request('LIST', 'transit/keys')).body.data.keys as string[];
    expect(otherKeys).toContain('only-other');
    expect(otherKeys).not.toContain('only-default');
    expect(defaultKeys).toContain('only-default');
    expect(defaultKeys).not.toContain('only-other');
    // The same name on both mounts is two keys: a ciphertext of one does not decrypt at the other.
    expect((await s.request('POST', 'transit/keys/same')).status).toBe(200);
    expect((await s.request('POST', 'other-transit/keys/same')).status).toBe(200);
    const ciphertext = (
      await s.request('POST', 'transit/encrypt/same', { body: { plaintext: b64('x') } })
    ).body.data.ciphertext as string;
    expect(
      (await s.request('POST', 'other-transit/decrypt/same', { body: { ciphertext } })).status,
    ).toBe(400);
    const otherCiphertext = (
      await s.request('POST', 'other-transit/encrypt/same', { body: { plaintext: b64('y') } })
    ).body.data.ciphertext as string;
    expect(
      (await s.request('POST', 'transit/decrypt/same', { body: { ciphertext: otherCiphertext } }))
        .status,
    ).toBe(400);
  });

  it('judges each mount by its own paths: a policy on transit/* grants nothing at other-transit/', async () => {
    expect((await s.request('POST', 'other-transit/keys/guarded')).status).toBe(200);
    expect((await s.request('POST', 'transit/keys/guarded')).status).toBe(200);
    await s.request('POST', 'sys/policies/acl/default-transit-only', {
      body: { policy: hclPolicy({ 'transit/*': ['create', 'read', 'update', 'list'] }) },
    });
    await s.request('POST', 'sys/policies/acl/other-transit-only', {
      body: { policy: hclPolicy({ 'other-transit/*': ['create', 'read', 'update', 'list'] }) },
    });
    const defaultOnly = await s.token({ policies: ['default-transit-only'] });
    const otherOnly = await s.token({ policies: ['other-transit-only'] });
    const plaintext = { plaintext: b64('p') };
    for (const [token, allowed, refused] of [
      [defaultOnly, 'transit', 'other-transit'],
      [otherOnly, 'other-transit', 'transit'],
    ] as const) {
      expect(
        (await s.request('POST', `${allowed}/encrypt/guarded`, { token, body: plaintext })).status,
      ).toBe(200);
      expect((await s.request('GET', `${allowed}/keys/guarded`, { token })).status).toBe(200);
      for (const path of [
        `${refused}/encrypt/guarded`,
        `${refused}/keys/guarded`,
        `${refused}/keys/new-key`,
        `${refused}/keys/guarded/rotate`,
      ]) {
        expect((await s.request('POST', path, { token, body: plaintext })).status, path).toBe(403);
      }
      expect((await s.request('LIST', `${refused}/keys`, { token })).status).toBe(403);
    }
    // Mount paths are case-sensitive, as in Vault: a name in another case is another path,
    // no mount there (root: 404) and judged by the ACL as its own path, never served as the mount.
    expect((await s.request('GET', 'Other-Transit/keys/guarded')).status).toBe(404);
    expect(
      (await s.request('GET', 'OTHER-TRANSIT/keys/guarded', { token: otherOnly })).status,
    ).toBe(403);
  });

  it('serves transit routes only on transit mounts (secret/keys/x is not a transit key)', async () => {
    expect((await s.request('POST', 'secret/keys/x', { body: {} })).status).toBe(404);
    expect((await s.request('POST', 'nowhere/keys/x', { body: {} })).status).toBe(404);
    expect((await s.request('POST', 'sys/mounts/kv-one', { body: { type: 'kv' } })).status).toBe(
      204,
    );
    // A KV version 1 key named like a transit route is a plain key there.
    expect(
      (await s.request('POST', 'kv-one/encrypt/k', { body: { plaintext: 'not transit' } })).status,
    ).toBe(204);
    expect((await s.request('GET', 'kv-one/encrypt/k')).body.data).toEqual({
      plaintext: 'not transit',
    });
  });

  it('removes the keys and their usage log with the mount; a mount enabled again starts empty', async () => {
    const path = 'gone-transit';
    expect(
      (await s.request('POST', `sys/mounts/${path}`, { body: { type: 'transit' } })).status,
    ).toBe(204);
    const uuid = (await s.request('GET', `sys/mounts/${path}`)).body.data.uuid as string;
    expect((await s.request('POST', `${path}/keys/doomed`)).status).toBe(200);
    expect(
      (await s.request('POST', `${path}/encrypt/doomed`, { body: { plaintext: b64('z') } })).status,
    ).toBe(200);
    expect((await s.server.context.barrier.listPaths(`mount/${uuid}/`)).length).toBeGreaterThan(0);
    expect((await s.request('DELETE', `sys/mounts/${path}`)).status).toBe(204);
    // The usage entry buffered for the key is dropped, not written into the removed area.
    await s.server.context.transitMounts.flush();
    expect(await s.server.context.barrier.listPaths(`mount/${uuid}/`)).toEqual([]);
    expect((await s.request('POST', `${path}/keys/doomed`)).status).toBe(404);
    expect(
      (await s.request('POST', `sys/mounts/${path}`, { body: { type: 'transit' } })).status,
    ).toBe(204);
    expect((await s.request('GET', `${path}/keys/doomed`)).status).toBe(404);
    expect((await s.request('LIST', `${path}/keys`)).status).toBe(404);
    // The fixed transit/ mount cannot be disabled (the KMS API's keys are its keys).
    expect((await s.request('DELETE', 'sys/mounts/transit')).status).toBe(400);
  });

  it('keeps a moved transit mount its keys (sys/remount)', async () => {
    expect(
      (await s.request('POST', 'sys/mounts/moving', { body: { type: 'transit' } })).status,
    ).toBe(204);
    expect((await s.request('POST', 'moving/keys/kept')).status).toBe(200);
    const ciphertext = (
      await s.request('POST', 'moving/encrypt/kept', { body: { plaintext: b64('m') } })
    ).body.data.ciphertext as string;
    expect(
      (await s.request('POST', 'sys/remount', { body: { from: 'moving', to: 'moved' } })).status,
    ).toBeLessThan(300);
    expect((await s.request('GET', 'moving/keys/kept')).status).toBe(404);
    const decrypted = await s.request('POST', 'moved/decrypt/kept', { body: { ciphertext } });
    expect(Buffer.from(decrypted.body.data.plaintext, 'base64').toString()).toBe('m');
  });
  it('leaves no key behind when keys are created while the mount is disabled', async () => {
    for (let round = 0; round < 5; round++) {
      const path = `racing-transit-${round}`;
      expect(
        (await s.request('POST', `sys/mounts/${path}`, { body: { type: 'transit' } })).status,
      ).toBe(204);
      const uuid = (await s.request('GET', `sys/mounts/${path}`)).body.data.uuid as string;
      const writes = Array.from({ length: 8 }, (_, i) =>
        i % 2 === 0
          ? s.request('POST', `${path}/keys/k${i}`)
          : s.request('POST', `${path}/encrypt/k${i}`, { body: { plaintext: b64('r') } }),
      );
      const [disabled, ...answers] = await Promise.all([
        s.request('DELETE', `sys/mounts/${path}`),
        ...writes,
      ]);
      expect(disabled.status).toBe(204);
      for (const answer of answers) {
        // 404: the mount was gone when the request looked; 400: an encrypt that created its key
        // in time found the key's version removed under it by the disable (an item error, as
        // Vault answers a key that vanished). Never a 500, never a key left behind (below).
        if (answer.status === 400)
          expect(answer.body.errors).toEqual([expect.stringMatching(/no longer exists/)]);
        else expect([200, 404]).toContain(answer.status);
      }
      await s.server.context.transitMounts.flush();
      expect(await s.server.context.barrier.listPaths(`mount/${uuid}/`)).toEqual([]);
    }
  });
});
