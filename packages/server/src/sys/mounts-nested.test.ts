import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

const V2_HINT = /^Invalid path for a versioned K\/V secrets engine\./;
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe.each(await storageKinds())('mount paths of several segments on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
    for (const [path, body] of [
      ['teams/a/kv', { type: 'kv-v2' }],
      ['teams/a/kv1', { type: 'kv', options: { version: '1' } }],
      ['teams/a/transit', { type: 'transit' }],
      ['teams/b/kv', { type: 'kv-v2' }],
    ] as const) {
      expect((await s.request('POST', `sys/mounts/${path}`, { body })).status, path).toBe(204);
    }
    expect(
      (await s.request('POST', 'sys/auth/teams/a/approle', { body: { type: 'approle' } })).status,
    ).toBe(204);
  });
  afterAll(async () => {
    await s.close();
  });

  const storedUnder = async (mountPath: string) => {
    const uuid = (await s.request('GET', `sys/mounts/${mountPath}`)).body.data.uuid as string;
    return s.server.context.barrier.listPaths(`mount/${uuid}/`);
  };

  it('lists, reads and tunes them in sys/mounts and sys/auth', async () => {
    const mounts = (await s.request('GET', 'sys/mounts')).body.data;
    expect(mounts['teams/a/kv/']).toMatchObject({ type: 'kv', options: { version: '2' } });
    expect(mounts['teams/a/kv1/']).toMatchObject({ type: 'kv', options: { version: '1' } });
    expect(mounts['teams/a/transit/']).toMatchObject({ type: 'transit' });
    expect((await s.request('GET', 'sys/auth')).body.data['teams/a/approle/']).toMatchObject({
      type: 'approle',
    });
    expect((await s.request('GET', 'sys/mounts/teams/a/kv')).body.data.type).toBe('kv');
    expect((await s.request('GET', 'sys/mounts/teams/a/kv/')).body.data.type).toBe('kv');
    expect((await s.request('GET', 'sys/mounts/teams/a')).status).toBe(400);
    expect((await s.request('GET', 'sys/auth/teams/a/approle')).body.data.type).toBe('approle');

    const tuned = await s.request('POST', 'sys/mounts/teams/a/kv1/tune', {
      body: { default_lease_ttl: '1h', description: 'team a' },
    });
    expect(tuned.status).toBe(204);
    expect((await s.request('GET', 'sys/mounts/teams/a/kv1/tune')).body.data).toMatchObject({
      default_lease_ttl: 3600,
      description: 'team a',
      options: { version: '1' },
    });
    await s.request('POST', 'teams/a/kv1/leased', { body: { v: '1' } });
    expect((await s.request('GET', 'teams/a/kv1/leased')).body.lease_duration).toBe(3600);
    expect(
      (await s.request('POST', 'sys/auth/teams/a/approle/tune', { body: { max_lease_ttl: '2h' } }))
        .status,
    ).toBe(204);
    expect((await s.request('GET', 'sys/auth/teams/a/approle/tune')).body.data).toMatchObject({
      max_lease_ttl: 7200,
    });
    // A tune of a path of no mount is refused as Vault refuses it.
    expect((await s.request('GET', 'sys/mounts/teams/a/tune')).status).toBe(400);
  });

  it('serves every engine under them, by the longest mount path', async () => {
    const value = randomBytes(8).toString('hex');
    const written = await s.request('POST', 'teams/a/kv/data/app/db', {
      body: { data: { password: value } },
    });
    expect(written.status).toBe(200);
    expect(written.body.mount_type).toBe('kv');
    expect((await s.request('GET', 'teams/a/kv/data/app/db')).body.data.data).toEqual({
      password: value,
    });
    expect((await s.request('LIST', 'teams/a/kv/metadata/app')).body.data.keys).toEqual(['db']);
    expect((await s.request('GET', 'teams/a/kv/config')).status).toBe(200);
    expect((await s.request('GET', 'teams/a/kv/subkeys/app/db')).status).toBe(200);
    const patched = await s.request('PATCH', 'teams/a/kv/data/app/db', {
      body: { data: { user: 'app' } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(patched.status).toBe(200);
    expect((await s.request('GET', 'teams/a/kv/data/app/db')).body.data.data).toEqual({
      password: value,
      user: 'app',
    });
    expect(
      (
        await s.request('PATCH', 'teams/a/kv/metadata/app/db', {
          body: { max_versions: 3 },
          headers: { 'content-type': 'application/merge-patch+json' },
        })
      ).status,
    ).toBe(204);
    const hint = await s.request('GET', 'teams/a/kv/app/db');
    expect(hint.status).toBe(404);
    expect(hint.body.warnings[0]).toMatch(V2_HINT);
    // Each mount keeps its own data: teams/b/kv/ and secret/ do not see it.
    expect((await s.request('GET', 'teams/b/kv/data/app/db')).status).toBe(404);
    expect((await s.request('GET', 'secret/data/app/db')).status).toBe(404);
    // A path no mount holds: Vault's 404, also where a mount's path starts the same.
    for (const path of ['teams/a/data/x', 'teams/c/kv/data/x', 'teams/a/kvx/data/x', 'teams/a']) {
      const response = await s.request('GET', path);
      expect(response.status, path).toBe(404);
      expect(response.body.errors[0], path).toMatch(/no handler for route/);
    }

    // KV version 1: a key whose first segment names a KV version 2 route is a plain key.
    expect((await s.request('PUT', 'teams/a/kv1/data/x', { body: { a: '1' } })).status).toBe(204);
    expect((await s.request('GET', 'teams/a/kv1/data/x')).body.data).toEqual({ a: '1' });
    expect((await s.request('LIST', 'teams/a/kv1/')).body.data.keys).toEqual(['data/', 'leased']);
    expect((await s.request('DELETE', 'teams/a/kv1/data/x')).status).toBe(204);
    expect((await s.request('GET', 'teams/a/kv1/data/x')).status).toBe(404);

    // Transit: its own keys.
    expect((await s.request('POST', 'teams/a/transit/keys/k')).status).toBe(200);
    const encrypted = await s.request('POST', 'teams/a/transit/encrypt/k', {
      body: { plaintext: b64('hello') },
    });
    expect(encrypted.status).toBe(200);
    const decrypted = await s.request('POST', 'teams/a/transit/decrypt/k', {
      body: { ciphertext: encrypted.body.data.ciphertext },
    });
    expect(Buffer.from(decrypted.body.data.plaintext, 'base64').toString()).toBe('hello');
    expect((await s.request('GET', 'transit/keys/k')).status).toBe(404);
    expect((await s.request('LIST', 'teams/a/transit/keys')).body.data.keys).toEqual(['k']);

    // AppRole: roles and logins of its own.
    await s.request('POST', 'auth/teams/a/approle/role/deploy', {
      body: { token_policies: ['deployer'] },
    });
    expect((await s.request('GET', 'auth/approle/role/deploy')).status).toBe(404);
    const roleId = (await s.request('GET', 'auth/teams/a/approle/role/deploy/role-id')).body.data
      .role_id as string;
    const secretId = (await s.request('POST', 'auth/teams/a/approle/role/deploy/secret-id')).body
      .data.secret_id as string;
    const logged = await send(s.url, 'POST', 'auth/teams/a/approle/login', {
      token: null,
      body: { role_id: roleId, secret_id: secretId },
    });
    expect(logged.status).toBe(200);
    expect(logged.body.auth.policies).toEqual(['default', 'deployer']);
    const self = await send(s.url, 'GET', 'auth/token/lookup-self', {
      token: logged.body.auth.client_token,
    });
    expect(self.body.data.path).toBe('auth/teams/a/approle/login');
  });

  it('refuses a mount inside or around another, with Vault’s text', async () => {
    const cases: [string, string][] = [
      ['teams/a/kv/x', 'path is already in use at teams/a/kv/'],
      ['teams/a/kv', 'path is already in use at teams/a/kv/'],
      ['secret/team', 'path is already in use at secret/'],
      ['teams/b', 'path is already in use at teams/b/kv/'],
    ];
    for (const [path, message] of cases) {
      const response = await s.request('POST', `sys/mounts/${path}`, { body: { type: 'kv' } });
      expect(response.status, path).toBe(400);
      expect(response.body.errors, path).toEqual([message]);
    }
    const around = await s.request('POST', 'sys/mounts/teams', { body: { type: 'kv' } });
    expect(around.body.errors[0]).toMatch(/^path is already in use at teams\/[ab]\//);
    for (const path of ['sys/teams/kv', 'auth/teams/kv', 'cubbyhole/x/y', 'identity/a/b']) {
      const response = await s.request('POST', `sys/mounts/${path}`, { body: { type: 'kv' } });
      expect(response.status, path).toBe(400);
      expect(response.body.errors[0], path).toMatch(/reserved/);
    }
    for (const [path, message] of [
      ['teams/a/approle/x', 'path is already in use at auth/teams/a/approle/'],
      ['teams', 'path is already in use at auth/teams/a/approle/'],
      ['token/x', 'path is already in use at auth/token/'],
    ]) {
      const response = await s.request('POST', `sys/auth/${path}`, { body: { type: 'approle' } });
      expect(response.body.errors, path).toEqual([message]);
    }
    // A sibling whose path shares a prefix is no clash.
    expect(
      (await s.request('POST', 'sys/mounts/teams/a/kv2', { body: { type: 'kv-v2' } })).status,
    ).toBe(204);
    expect(
      (await s.request('POST', 'sys/auth/teams/a/approle2', { body: { type: 'approle' } })).status,
    ).toBe(204);
  });

  it('remounts between depths, the data moving with the mount', async () => {
    const enable = await s.request('POST', 'sys/mounts/moving/x', { body: { type: 'kv-v2' } });
    expect(enable.status).toBe(204);
    await s.request('POST', 'moving/x/data/k', { body: { data: { v: 'kept' } } });
    const remount = (from: string, to: string) =>
      s.request('POST', 'sys/remount', { body: { from, to } });
    expect((await remount('moving/x', 'deeper/still/x')).status).toBe(200);
    expect((await s.request('GET', 'deeper/still/x/data/k')).body.data.data).toEqual({
      v: 'kept',
    });
    expect((await s.request('GET', 'moving/x/data/k')).status).toBe(404);
    expect((await remount('deeper/still/x', 'flat')).status).toBe(200);
    expect((await s.request('GET', 'flat/data/k')).body.data.data).toEqual({ v: 'kept' });
    expect((await remount('flat', 'teams/a/kv1/inner')).body.errors).toEqual([
      'path already in use at "teams/a/kv1/"',
    ]);
    expect((await remount('flat', 'teams')).body.errors[0]).toMatch(
      /^path already in use at "teams\/[ab]\//,
    );
    expect((await remount('flat', 'sys/flat')).status).toBe(400);
    expect((await remount('flat/data', 'other')).body.errors).toEqual([
      'no matching mount at "flat/data/"',
    ]);
    // Auth methods move under auth/ only, at any depth.
    await s.request('POST', 'sys/auth/ci/deep', { body: { type: 'approle' } });
    await s.request('POST', 'auth/ci/deep/role/r', { body: {} });
    expect((await remount('auth/ci/deep', 'auth/ci2')).status).toBe(200);
    expect((await s.request('GET', 'auth/ci2/role/r')).status).toBe(200);
    expect((await remount('auth/ci2', 'ci3')).status).toBe(400);
  });

  it('disables exactly one mount: a sibling whose path shares a prefix keeps its data', async () => {
    for (const path of ['iso/b', 'iso/bc'])
      await s.request('POST', `sys/mounts/${path}`, {
        body: { type: 'kv', options: { version: 1 } },
      });
    await s.request('POST', 'iso/b/k', { body: { v: 'b' } });
    await s.request('POST', 'iso/bc/k', { body: { v: 'bc' } });
    const sibling = await storedUnder('iso/bc');
    expect(sibling.length).toBeGreaterThan(0);
    const uuid = (await s.request('GET', 'sys/mounts/iso/b')).body.data.uuid as string;
    // Not mounted (a prefix of both): nothing happens.
    expect((await s.request('DELETE', 'sys/mounts/iso')).status).toBe(204);
    expect((await s.request('GET', 'iso/b/k')).body.data).toEqual({ v: 'b' });
    expect((await s.request('DELETE', 'sys/mounts/iso/b')).status).toBe(204);
    expect(await s.server.context.barrier.listPaths(`mount/${uuid}/`)).toEqual([]);
    expect(await storedUnder('iso/bc')).toEqual(sibling);
    expect((await s.request('GET', 'iso/bc/k')).body.data).toEqual({ v: 'bc' });
    expect((await s.request('GET', 'iso/b/k')).body.errors[0]).toMatch(/no handler/);
    // Enabled again at the same path: empty.
    await s.request('POST', 'sys/mounts/iso/b', { body: { type: 'kv' } });
    expect((await s.request('GET', 'iso/b/k')).status).toBe(404);
  });

  it('judges requests by the policy on the full path: teams/a/kv/* grants no sibling', async () => {
    await s.request('POST', 'teams/a/kv2/data/s', { body: { data: { v: 'kv2' } } });
    await s.request('POST', 'teams/a/kv/data/s', { body: { data: { v: 'kv' } } });
    await s.policy('team-a-kv', { 'teams/a/kv/*': ['read', 'list'] });
    const token = await s.token({ policies: ['team-a-kv'] });
    expect((await send(s.url, 'GET', 'teams/a/kv/data/s', { token })).status).toBe(200);
    expect((await send(s.url, 'LIST', 'teams/a/kv/metadata/', { token })).status).toBe(200);
    for (const path of [
      'teams/a/kv2/data/s',
      'teams/a/kv1/leased',
      'teams/a/transit/keys/k',
      'teams/b/kv/data/s',
      'secret/data/s',
    ]) {
      expect((await send(s.url, 'GET', path, { token })).status, path).toBe(403);
    }
    expect(
      (await send(s.url, 'POST', 'teams/a/kv/data/s', { token, body: { data: { v: 'x' } } }))
        .status,
    ).toBe(403);
    // A mount's sys/ paths follow the full path too.
    await s.policy('team-a-mounts', { 'sys/mounts/teams/a/*': ['create', 'update', 'read'] });
    const admin = await s.token({ policies: ['team-a-mounts'] });
    expect(
      (await send(s.url, 'POST', 'sys/mounts/teams/a/new', { token: admin, body: { type: 'kv' } }))
        .status,
    ).toBe(204);
    expect(
      (await send(s.url, 'POST', 'sys/mounts/teams/c/new', { token: admin, body: { type: 'kv' } }))
        .status,
    ).toBe(403);
  });

  it('takes a rotation policy for a secret on them, named by its full path (rotation-mounts.test.ts rotates)', async () => {
    await s.request('POST', 'teams/a/kv/data/rotated', { body: { data: { v: '1' } } });
    const written = await s.request('POST', 'sys/rotation/teams/a/kv/rotated', {
      body: { rotator: 'random', schedule: '90d' },
    });
    expect(written.status).toBe(204);
    expect((await s.request('GET', 'sys/rotation/teams/a/kv/rotated')).body.data.secret).toBe(
      'teams/a/kv/rotated',
    );
    expect((await s.request('LIST', 'sys/rotation')).body.data.keys).toEqual([
      'teams/a/kv/rotated',
    ]);
    expect((await s.request('DELETE', 'sys/rotation/teams/a/kv/rotated')).status).toBe(204);
  });
});
