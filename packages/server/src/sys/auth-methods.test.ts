import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

describe.each(await storageKinds())('sys/auth (enable, disable, tune) on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => {
    await s.close();
  });

  const login = async (mount: string, role: string) => {
    const roleId = (await s.request('GET', `auth/${mount}/role/${role}/role-id`)).body.data
      .role_id as string;
    const secretId = (await s.request('POST', `auth/${mount}/role/${role}/secret-id`)).body.data
      .secret_id as string;
    return send(s.url, 'POST', `auth/${mount}/login`, {
      token: null,
      body: { role_id: roleId, secret_id: secretId },
    });
  };

  it('enables AppRole at another path, with its own roles, logging in there', async () => {
    expect(
      (await s.request('POST', 'sys/auth/ci', { body: { type: 'approle', description: 'CI' } }))
        .status,
    ).toBe(204);
    const listed = await s.request('GET', 'sys/auth');
    expect(Object.keys(listed.body.data).sort()).toEqual(['approle/', 'ci/', 'token/']);
    expect(listed.body.data['ci/']).toMatchObject({ type: 'approle', description: 'CI' });
    expect((await s.request('GET', 'sys/auth/ci')).body.data.type).toBe('approle');

    await s.request('POST', 'auth/ci/role/deploy', { body: { token_policies: ['deployer'] } });
    expect((await s.request('LIST', 'auth/ci/role')).body.data.keys).toEqual(['deploy']);
    // The mounts do not share roles.
    expect((await s.request('GET', 'auth/approle/role/deploy')).status).toBe(404);
    const logged = await login('ci', 'deploy');
    expect(logged.status).toBe(200);
    expect(logged.body.auth.policies).toEqual(['default', 'deployer']);
    const self = await send(s.url, 'GET', 'auth/token/lookup-self', {
      token: logged.body.auth.client_token,
    });
    expect(self.body.data.path).toBe('auth/ci/login');
  });

  it('answers 404 under auth/ where no method is enabled, and refuses other spellings', async () => {
    expect(
      (await send(s.url, 'POST', 'auth/nothing/login', { token: null, body: {} })).status,
    ).toBe(403);
    expect((await s.request('GET', 'auth/nothing/role')).body.errors[0]).toMatch(/no handler/);
    // Another case is another path (auth/CI/ is not auth/ci/): no method there.
    expect((await s.request('GET', 'auth/CI/role')).body.errors[0]).toMatch(/no handler/);
    for (const path of [
      'token',
      'token/x',
      'Token',
      'TOKEN/x',
      'a//b',
      'approle',
      'approle/x',
      'a.b',
      '%C5%BFi',
    ]) {
      const response = await s.request('POST', `sys/auth/${path}`, { body: { type: 'approle' } });
      expect(response.status, path).toBe(400);
    }
    expect(
      (await s.request('POST', 'sys/auth/x', { body: { type: 'token' } })).body.errors[0],
    ).toMatch(/cannot be instantiated/);
    expect((await s.request('POST', 'sys/auth/x', { body: { type: 'ldap' } })).status).toBe(400);
  });

  it('needs sudo to enable, read or disable an auth method', async () => {
    await s.policy('auth-admin', { 'sys/auth/*': ['create', 'read', 'update', 'delete'] });
    const token = await s.token({ policies: ['auth-admin'] });
    expect(
      (await send(s.url, 'POST', 'sys/auth/other', { token, body: { type: 'approle' } })).status,
    ).toBe(403);
    expect((await send(s.url, 'DELETE', 'sys/auth/ci', { token })).status).toBe(403);
  });

  it('tunes an auth method', async () => {
    expect(
      (await s.request('POST', 'sys/auth/ci/tune', { body: { description: 'builds' } })).status,
    ).toBe(204);
    expect((await s.request('GET', 'sys/auth/ci/tune')).body.data.description).toBe('builds');
  });

  it('disables a method with its roles and secret IDs; one enabled again starts empty', async () => {
    const uuid = (await s.request('GET', 'sys/auth/ci')).body.data.uuid as string;
    expect((await s.server.context.barrier.listPaths(`mount/${uuid}/`)).length).toBeGreaterThan(0);
    expect((await s.request('DELETE', 'sys/auth/ci')).status).toBe(204);
    expect(await s.server.context.barrier.listPaths(`mount/${uuid}/`)).toEqual([]);
    expect((await s.request('GET', 'auth/ci/role/deploy')).status).toBe(404);
    await s.request('POST', 'sys/auth/ci', { body: { type: 'approle' } });
    expect((await s.request('LIST', 'auth/ci/role')).status).toBe(404);
    expect((await s.request('DELETE', 'sys/auth/token')).status).toBe(400);
  });

  it('moves an auth method with sys/remount, its roles with it', async () => {
    await s.request('POST', 'auth/ci/role/r', { body: {} });
    const moved = await s.request('POST', 'sys/remount', {
      body: { from: 'auth/ci', to: 'auth/ci2' },
    });
    expect(moved.status).toBe(200);
    expect((await s.request('GET', 'auth/ci2/role/r')).status).toBe(200);
    expect(
      (await s.request('POST', 'sys/remount', { body: { from: 'auth/ci2', to: 'kvx' } })).status,
    ).toBe(400);
  });
});
