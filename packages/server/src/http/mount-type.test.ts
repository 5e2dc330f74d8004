import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, type TestServer } from '../../test/harness.js';

/** Every response envelope names the type of the mount that served it, as Vault's do. */
describe('mount_type in the response envelope', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite');
    await s.request('POST', 'sys/mounts/kv-one', { body: { type: 'kv' } });
    await s.request('POST', 'sys/mounts/other-transit', { body: { type: 'transit' } });
    await s.request('POST', 'sys/auth/ci', { body: { type: 'approle' } });
    // Each test stands alone (a mutation run may run any one of them by itself).
    await s.request('POST', 'auth/ci/role/deploy', { body: { token_policies: ['default'] } });
  });
  afterAll(async () => {
    await s.close();
  });

  it('is the type of the mount a request was served by', async () => {
    await s.request('POST', 'secret/data/app', { body: { data: { a: '1' } } });
    await s.request('POST', 'kv-one/app', { body: { a: '1' } });
    await s.request('POST', 'cubbyhole/note', { body: { a: '1' } });
    await s.request('POST', 'auth/approle/role/r', { body: { token_policies: ['default'] } });
    const cases: [string, string, string][] = [
      ['GET', 'secret/data/app', 'kv'],
      ['GET', 'secret/metadata/app', 'kv'],
      ['GET', 'kv-one/app', 'kv'],
      ['GET', 'cubbyhole/note', 'cubbyhole'],
      ['POST', 'transit/keys/k', 'transit'],
      ['POST', 'other-transit/keys/k', 'transit'],
      ['GET', 'sys/mounts', 'system'],
      ['LIST', 'sys/policies/acl', 'system'],
      ['GET', 'auth/token/lookup-self', 'token'],
      ['POST', 'auth/token/create', 'token'],
      ['GET', 'auth/ci/role/deploy', 'approle'],
      ['LIST', 'auth/approle/role', 'approle'],
    ];
    for (const [method, path, type] of cases) {
      const response = await s.request(method, path);
      expect(response.status, path).toBe(200);
      expect(response.body.mount_type, path).toBe(type);
    }
  });

  it('is approle on a login, and survives wrapping', async () => {
    const roleId = (await s.request('GET', 'auth/ci/role/deploy/role-id')).body.data.role_id;
    const secretId = (await s.request('POST', 'auth/ci/role/deploy/secret-id')).body.data.secret_id;
    const login = await send(s.url, 'POST', 'auth/ci/login', {
      token: null,
      body: { role_id: roleId, secret_id: secretId },
    });
    expect(login.status).toBe(200);
    expect(login.body.mount_type).toBe('approle');
    const wrapped = await s.request('POST', 'auth/ci/role/deploy/secret-id', {
      headers: { 'x-vault-wrap-ttl': '60' },
    });
    expect(wrapped.body.wrap_info).not.toBeNull();
    expect(wrapped.body.mount_type).toBe('approle');
    const unwrapped = await s.request('POST', 'sys/wrapping/unwrap', {
      body: { token: wrapped.body.wrap_info.token },
    });
    // The unwrapped response is the one the mount gave.
    expect(unwrapped.body.mount_type).toBe('approle');
  });

  it('is not sent on errors (Vault sends only errors)', async () => {
    const missing = await s.request('GET', 'secret/data/none');
    expect(missing.status).toBe(404);
    expect(missing.body.mount_type).toBeUndefined();
  });
});
