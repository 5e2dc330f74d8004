import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

const ENVELOPE_KEYS = [
  'auth',
  'data',
  'lease_duration',
  'lease_id',
  'mount_type',
  'renewable',
  'request_id',
  'warnings',
  'wrap_info',
];
const CAS_MISMATCH = 'check-and-set parameter did not match the current version';

/** Sends raw bytes (for the non-standard LIST verb) and returns status line and body. */
function rawRequest(url: string, request: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk;
    });
    socket.on('end', () => {
      const status = Number(data.split(' ')[1]);
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    });
    socket.on('error', reject);
  });
}

describe.each(await storageKinds())('KV v2 on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => {
    await s.close();
  });

  const write = (key: string, data: Record<string, unknown>, cas?: number) =>
    s.request('POST', `secret/data/${key}`, {
      body: { data, ...(cas === undefined ? {} : { options: { cas } }) },
    });

  it("writes and reads versions with Vault's envelope and shapes", async () => {
    const first = await write('app/db', { password: 'one', port: 5432 });
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(ENVELOPE_KEYS);
    expect(first.body.data).toMatchObject({
      version: 1,
      destroyed: false,
      deletion_time: '',
      custom_metadata: null,
    });
    expect(first.body.data.created_time).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    await write('app/db', { password: 'two' });

    const latest = await s.request('GET', 'secret/data/app/db');
    expect(latest.status).toBe(200);
    expect(Object.keys(latest.body).sort()).toEqual(ENVELOPE_KEYS);
    expect(latest.body.data.data).toEqual({ password: 'two' });
    expect(latest.body.data.metadata).toMatchObject({ version: 2, destroyed: false });
    const v1 = await s.request('GET', 'secret/data/app/db?version=1');
    expect(v1.body.data.data).toEqual({ password: 'one', port: 5432 });
    expect((await s.request('GET', 'secret/data/app/db?version=9')).status).toBe(404);
    expect((await s.request('GET', 'secret/data/app/db?version=x')).status).toBe(400);
  });

  it('answers a plain 404 with {"errors":[]} for a missing secret', async () => {
    const missing = await s.request('GET', 'secret/data/does/not/exist');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ errors: [] });
  });

  it("enforces check-and-set with Vault's messages", async () => {
    expect((await write('cas/a', { v: 1 }, 0)).status).toBe(200);
    const again = await write('cas/a', { v: 2 }, 0);
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ errors: [CAS_MISMATCH] });
    expect((await write('cas/a', { v: 2 }, 1)).body.data.version).toBe(2);
    expect((await write('cas/a', { v: 3 }, 1)).body.errors).toEqual([CAS_MISMATCH]);
    const bad = await s.request('POST', 'secret/data/cas/a', {
      body: { data: { v: 1 }, options: { cas: 'x' } },
    });
    expect(bad.body.errors).toEqual(['error parsing check-and-set parameter']);

    expect(
      (await s.request('POST', 'secret/metadata/cas/a', { body: { cas_required: true } })).status,
    ).toBe(204);
    const required = await write('cas/a', { v: 9 });
    expect(required.status).toBe(400);
    expect(required.body.errors).toEqual(['check-and-set parameter required for this call']);
    expect((await write('cas/a', { v: 3 }, 2)).status).toBe(200);
  });

  it('check-and-set required mount-wide through config', async () => {
    expect(
      (await s.request('POST', 'secret/config', { body: { cas_required: true, max_versions: 7 } }))
        .status,
    ).toBe(204);
    const cfg = await s.request('GET', 'secret/config');
    expect(cfg.body.data).toEqual({
      cas_required: true,
      delete_version_after: '0s',
      max_versions: 7,
    });
    expect((await write('cfg/x', { a: 1 })).body.errors).toEqual([
      'check-and-set parameter required for this call',
    ]);
    expect((await write('cfg/x', { a: 1 }, 0)).status).toBe(200);
    await s.request('POST', 'secret/config', { body: { cas_required: false, max_versions: 0 } });
  });

  it('soft-deletes, undeletes and destroys; unavailable versions are 404 with the envelope and metadata', async () => {
    await write('life/s', { a: '1' });
    await write('life/s', { a: '2' });
    expect((await s.request('DELETE', 'secret/data/life/s')).status).toBe(204);
    const deleted = await s.request('GET', 'secret/data/life/s');
    expect(deleted.status).toBe(404);
    expect(Object.keys(deleted.body).sort()).toEqual(ENVELOPE_KEYS);
    expect(deleted.body.data.data).toBeNull();
    expect(deleted.body.data.metadata).toMatchObject({ version: 2, destroyed: false });
    expect(deleted.body.data.metadata.deletion_time).not.toBe('');
    expect((await s.request('GET', 'secret/data/life/s?version=1')).body.data.data).toEqual({
      a: '1',
    });

    expect(
      (await s.request('POST', 'secret/undelete/life/s', { body: { versions: [2] } })).status,
    ).toBe(204);
    expect((await s.request('GET', 'secret/data/life/s')).body.data.data).toEqual({ a: '2' });

    expect(
      (await s.request('POST', 'secret/delete/life/s', { body: { versions: [1] } })).status,
    ).toBe(204);
    expect((await s.request('GET', 'secret/data/life/s?version=1')).status).toBe(404);

    expect(
      (await s.request('POST', 'secret/destroy/life/s', { body: { versions: [2] } })).status,
    ).toBe(204);
    const destroyed = await s.request('GET', 'secret/data/life/s');
    expect(destroyed.status).toBe(404);
    expect(destroyed.body.data.metadata).toMatchObject({ version: 2, destroyed: true });
    await s.request('POST', 'secret/undelete/life/s', { body: { versions: [2] } });
    expect((await s.request('GET', 'secret/data/life/s')).status).toBe(404);

    const noVersions = await s.request('POST', 'secret/destroy/life/s', { body: {} });
    expect(noVersions).toMatchObject({
      status: 400,
      body: { errors: ['no version number provided'] },
    });
  });

  it('keeps max_versions versions and trims older ones', async () => {
    await s.request('POST', 'secret/metadata/trim/k', { body: { max_versions: 2 } });
    for (let i = 1; i <= 4; i++) await write('trim/k', { i });
    const meta = await s.request('GET', 'secret/metadata/trim/k');
    expect(Object.keys(meta.body.data.versions)).toEqual(['3', '4']);
    expect(meta.body.data).toMatchObject({
      current_version: 4,
      oldest_version: 3,
      max_versions: 2,
    });
    expect((await s.request('GET', 'secret/data/trim/k?version=2')).body).toEqual({ errors: [] });
    expect((await s.request('GET', 'secret/data/trim/k?version=3')).body.data.data).toEqual({
      i: 3,
    });
  });

  it('reads, sets and patches metadata, validating custom_metadata', async () => {
    await write('meta/m', { a: 1 });
    const set = await s.request('POST', 'secret/metadata/meta/m', {
      body: { custom_metadata: { owner: 'team-a', tier: 'gold' }, delete_version_after: '1h30m' },
    });
    expect(set.status).toBe(204);
    const read = await s.request('GET', 'secret/metadata/meta/m');
    expect(Object.keys(read.body.data).sort()).toEqual([
      'cas_required',
      'created_time',
      'current_version',
      'custom_metadata',
      'delete_version_after',
      'max_versions',
      'oldest_version',
      'updated_time',
      'versions',
    ]);
    expect(read.body.data.custom_metadata).toEqual({ owner: 'team-a', tier: 'gold' });
    expect(read.body.data.delete_version_after).toBe('1h30m0s');
    expect(read.body.data.versions['1']).toMatchObject({ destroyed: false, deletion_time: '' });

    const patched = await s.request('PATCH', 'secret/metadata/meta/m', {
      body: { custom_metadata: { tier: null, region: 'eu' }, max_versions: 5 },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(patched.status).toBe(204);
    const after = (await s.request('GET', 'secret/metadata/meta/m')).body.data;
    expect(after.custom_metadata).toEqual({ owner: 'team-a', region: 'eu' });
    expect(after.max_versions).toBe(5);
    // The version written now gets a deletion time from delete_version_after.
    const v2 = await write('meta/m', { a: 2 });
    expect(Date.parse(v2.body.data.deletion_time) - Date.parse(v2.body.data.created_time)).toBe(
      5400_000,
    );
    expect(v2.body.data.custom_metadata).toEqual({ owner: 'team-a', region: 'eu' });

    const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
    const bad = await s.request('POST', 'secret/metadata/meta/m', {
      body: { custom_metadata: tooMany },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]).toMatch(/^custom_metadata validation failed/);
    expect(
      (
        await s.request('PATCH', 'secret/metadata/none/here', {
          body: { max_versions: 1 },
          headers: { 'content-type': 'application/merge-patch+json' },
        })
      ).status,
    ).toBe(404);
  });

  it('patches data with JSON merge patch, only as application/merge-patch+json', async () => {
    await write('patch/p', { user: 'u', nested: { a: 1, b: 2 }, gone: 'x' });
    const wrongType = await s.request('PATCH', 'secret/data/patch/p', {
      body: { data: { user: 'v' } },
    });
    expect(wrongType.status).toBe(415);
    const patched = await s.request('PATCH', 'secret/data/patch/p', {
      body: { data: { user: 'v', nested: { b: null, c: 3 }, gone: null }, options: { cas: 1 } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.data.version).toBe(2);
    expect((await s.request('GET', 'secret/data/patch/p')).body.data.data).toEqual({
      user: 'v',
      nested: { a: 1, c: 3 },
    });
    const missing = await s.request('PATCH', 'secret/data/patch/none', {
      body: { data: { a: 1 } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(missing).toMatchObject({ status: 404, body: { errors: [] } });
    const stale = await s.request('PATCH', 'secret/data/patch/p', {
      body: { data: { a: 1 }, options: { cas: 1 } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(stale.body.errors).toEqual([CAS_MISMATCH]);
  });

  it('returns subkeys with nulls for values, to a depth', async () => {
    await write('sub/s', { a: 'x', b: { c: 'y', d: { e: 'z' } } });
    const all = await s.request('GET', 'secret/subkeys/sub/s');
    expect(all.body.data.subkeys).toEqual({ a: null, b: { c: null, d: { e: null } } });
    const shallow = await s.request('GET', 'secret/subkeys/sub/s?depth=1');
    expect(shallow.body.data.subkeys).toEqual({ a: null, b: null });
    expect(shallow.body.data.metadata.version).toBe(1);
  });

  it('lists keys and folders with GET ?list=true and with the LIST verb', async () => {
    await write('list/one', { a: 1 });
    await write('list/two', { a: 1 });
    await write('list/dir/three', { a: 1 });
    const listed = await s.request('GET', 'secret/metadata/list/?list=true');
    expect(listed.body.data.keys).toEqual(['dir/', 'one', 'two']);
    const viaLIST = await rawRequest(
      s.url,
      'LIST /v1/secret/metadata/list HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\nConnection: close\r\n\r\n',
    );
    expect(viaLIST.status).toBe(200);
    expect(JSON.parse(viaLIST.body).data.keys).toEqual(['dir/', 'one', 'two']);
    expect((await s.request('GET', 'secret/metadata/empty/?list=true')).body).toEqual({
      errors: [],
    });
    // The mount root, with and without the trailing slash (`vault kv list secret` sends none).
    const root = (await s.request('GET', 'secret/metadata/?list=true')).body.data.keys;
    expect(root).toContain('list/');
    expect((await s.request('GET', 'secret/metadata?list=true')).body.data.keys).toEqual(root);
    const rootViaLIST = await rawRequest(
      s.url,
      'LIST /v1/secret/metadata HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\nConnection: close\r\n\r\n',
    );
    expect(rootViaLIST.status).toBe(200);
    expect(JSON.parse(rootViaLIST.body).data.keys).toEqual(root);
    expect(await s.request('GET', 'secret/metadata')).toMatchObject({
      status: 404,
      body: { errors: [] },
    });
    const other = await rawRequest(
      s.url,
      'FROB /v1/sys/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(other.status).toBe(400);
    expect((await s.request('GET', 'sys/health')).status).toBe(200);
  });

  it('deletes metadata with every version; the next write starts again at version 1', async () => {
    await write('gone/g', { a: 1 });
    await write('gone/g', { a: 2 });
    expect((await s.request('DELETE', 'secret/metadata/gone/g')).status).toBe(204);
    expect((await s.request('GET', 'secret/data/gone/g')).status).toBe(404);
    expect((await s.request('GET', 'secret/metadata/gone/g')).status).toBe(404);
    expect((await write('gone/g', { a: 3 })).body.data.version).toBe(1);
  });

  it('handles unusual but valid key names and refuses ambiguous ones', async () => {
    const name = encodeURIComponent('ünïcode key');
    expect((await write(`odd/${name}`, { a: 1 })).status).toBe(200);
    expect((await s.request('GET', `secret/data/odd/${name}`)).body.data.data).toEqual({ a: 1 });
    expect((await s.request('GET', 'secret/metadata/odd/?list=true')).body.data.keys).toEqual([
      'ünïcode key',
    ]);
    // fetch would resolve the dot segments itself; send them raw.
    const dots = await rawRequest(
      s.url,
      'GET /v1/secret/data/odd/%2e%2e/x HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\nConnection: close\r\n\r\n',
    );
    expect(dots.status).toBe(400);
    expect((await s.request('GET', 'secret/data/odd//x')).status).toBe(400);
    expect((await s.request('POST', 'secret/data/odd/', { body: { data: { a: 1 } } })).status).toBe(
      400,
    );
    // LIKE wildcards in a key are matched literally when listing.
    expect((await write(`odd/${encodeURIComponent('100%_like')}/x`, { a: 1 })).status).toBe(200);
    expect((await write('odd/100Xlike/y', { a: 1 })).status).toBe(200);
    const wild = await s.request(
      'GET',
      `secret/metadata/odd/${encodeURIComponent('100%_like')}/?list=true`,
    );
    expect(wild.body.data.keys).toEqual(['x']);
    expect((await s.request('GET', 'secret/data/odd/100%_like')).status).toBe(400);
  });

  it('tells the vault CLI that secret/ is KV version 2', async () => {
    const mount = await s.request('GET', 'sys/internal/ui/mounts/secret/app/db');
    expect(mount.body.data).toMatchObject({
      path: 'secret/',
      type: 'kv',
      options: { version: '2' },
    });
  });
});
