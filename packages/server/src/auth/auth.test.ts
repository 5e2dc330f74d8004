import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

describe.each(await storageKinds())('tokens and AppRole on %s', (kind) => {
  let s: TestServer;
  // The server's clock: moved forward to expire secret IDs instead of waiting for them.
  let nowMs = Date.now();
  beforeAll(async () => {
    s = await startTestServer(kind, { clock: () => nowMs });
    await s.request('POST', 'sys/policies/acl/kv-read', {
      body: {
        policy: `
          path "secret/data/*" {
            capabilities = ["read"]
          }
          path "auth/token/create" {
            capabilities = ["update"]
          }`,
      },
    });
    await s.request('POST', 'secret/data/shared', { body: { data: { v: 1 } } });
  });
  afterAll(async () => {
    await s.close();
  });

  const create = async (body: Record<string, unknown>, token = 'root') =>
    (await s.request('POST', 'auth/token/create', { token, body })).body;

  it('issues tokens with TTLs, accepts X-Vault-Token and Bearer, and looks them up', async () => {
    const { auth } = await create({ policies: ['kv-read'], ttl: '1h', meta: { team: 'a' } });
    expect(auth).toMatchObject({
      policies: ['default', 'kv-read'],
      renewable: true,
      orphan: false,
      token_type: 'service',
    });
    expect(auth.client_token).toMatch(/^cst\.[A-Za-z0-9]{32}$/);
    expect(auth.lease_duration).toBeGreaterThan(3590);
    const bearer = await send(s.url, 'GET', 'secret/data/shared', {
      token: null,
      headers: { authorization: `Bearer ${auth.client_token}` },
    });
    expect(bearer.status).toBe(200);
    const self = await s.request('GET', 'auth/token/lookup-self', { token: auth.client_token });
    expect(self.body.data).toMatchObject({
      id: auth.client_token,
      accessor: auth.accessor,
      meta: { team: 'a' },
      policies: ['default', 'kv-read'],
    });
    const byAccessor = await s.request('POST', 'auth/token/lookup-accessor', {
      body: { accessor: auth.accessor },
    });
    expect(byAccessor.body.data).not.toHaveProperty('id');
  });

  it('renews within the maximum TTL only', async () => {
    const { auth } = await create({ ttl: '10m', explicit_max_ttl: '20m' });
    const renewed = await s.request('POST', 'auth/token/renew-self', {
      token: auth.client_token,
      body: { increment: '1h' },
    });
    expect(renewed.body.auth.lease_duration).toBeLessThanOrEqual(1200);
    expect(renewed.body.auth.lease_duration).toBeGreaterThan(1190);
    const fixed = await create({ ttl: '10m', renewable: false });
    expect(
      (
        await s.request('POST', 'auth/token/renew-self', {
          token: fixed.auth.client_token,
          body: {},
        })
      ).status,
    ).toBe(400);
  });

  it('revoking a parent revokes its children, not orphans', async () => {
    const parent = (await create({ policies: ['kv-read'] })).auth.client_token;
    const child = (await create({ policies: ['kv-read'] }, parent)).auth.client_token;
    const grandchild = (await create({}, child)).auth.client_token;
    const orphan = (await create({ policies: ['kv-read'], no_parent: true })).auth.client_token;
    expect((await s.request('POST', 'auth/token/revoke', { body: { token: parent } })).status).toBe(
      204,
    );
    for (const token of [parent, child, grandchild]) {
      expect((await s.request('GET', 'auth/token/lookup-self', { token })).status).toBe(403);
    }
    expect((await s.request('GET', 'auth/token/lookup-self', { token: orphan })).status).toBe(200);
  });

  it('children never get policies their parent lacks, nor choose ids or orphanhood without root', async () => {
    const parent = (await create({ policies: ['kv-read'] })).auth.client_token;
    expect(
      (
        await s.request('POST', 'auth/token/create', {
          token: parent,
          body: { policies: ['root'] },
        })
      ).status,
    ).toBe(400);
    expect(
      (await s.request('POST', 'auth/token/create', { token: parent, body: { id: 'mine' } }))
        .status,
    ).toBe(403);
    expect(
      (await s.request('POST', 'auth/token/create', { token: parent, body: { no_parent: true } }))
        .status,
    ).toBe(403);
  });

  it('an empty chosen id asks for a generated token (as Vault); an id no request could carry, or with a reserved prefix, is refused', async () => {
    const { auth } = await create({ id: '', policies: ['kv-read'] });
    expect(auth.client_token).toMatch(/^cst\.[0-9A-Za-z]{32}$/);
    const self = await s.request('GET', 'auth/token/lookup-self', { token: auth.client_token });
    expect(self.body.data).toMatchObject({
      id: auth.client_token,
      policies: ['default', 'kv-read'],
    });
    for (const id of ['z'.repeat(257), 'svc ', 'a\nb', 'café'])
      expect(await create({ id })).toEqual({
        errors: [
          'a chosen token id must be 1 to 256 visible ASCII characters (no spaces or control characters: a request header could not carry it unchanged)',
        ],
      });
    // An id that is not text is refused (null is no id); without root, any id is refused first.
    for (const id of [123, true, ['abc'], { a: 1 }])
      expect(await create({ id })).toEqual({ errors: ['id must be a string'] });
    expect((await create({ id: null })).auth.client_token).toMatch(/^cst\./);
    // A batch token's prefix would route the value to batch reading: never presentable.
    expect(await create({ id: 'hvb.chosen', policies: ['kv-read'] })).toEqual({
      errors: ["custom token ID cannot have the 'hvb.' prefix"],
    });
    expect(await create({ id: 'cst.chosen' })).toEqual({
      errors: ["custom token ID cannot have the 'cst.' prefix"],
    });
  });

  it('limited-use tokens work exactly num_uses times, even when used concurrently', async () => {
    const { auth } = await create({ policies: ['kv-read'], num_uses: 3 });
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        s.request('GET', 'secret/data/shared', { token: auth.client_token }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    expect(results.filter((r) => r.status === 403)).toHaveLength(7);
  });

  it('revokes by accessor and revoke-self', async () => {
    const a = (await create({})).auth;
    await s.request('POST', 'auth/token/revoke-accessor', { body: { accessor: a.accessor } });
    expect(
      (await s.request('GET', 'auth/token/lookup-self', { token: a.client_token })).status,
    ).toBe(403);
    const b = (await create({})).auth.client_token;
    expect((await s.request('POST', 'auth/token/revoke-self', { token: b })).status).toBe(204);
    expect((await s.request('GET', 'auth/token/lookup-self', { token: b })).status).toBe(403);
  });

  it('AppRole: role ID + secret ID log in; uses are limited, also under concurrency', async () => {
    await s.request('POST', 'auth/approle/role/ci', {
      body: { token_policies: 'kv-read', secret_id_num_uses: 1, token_ttl: '5m' },
    });
    const role = (await s.request('GET', 'auth/approle/role/ci')).body.data;
    expect(role).toMatchObject({
      token_policies: ['kv-read'],
      secret_id_num_uses: 1,
      token_ttl: 300,
    });
    expect(role).not.toHaveProperty('role_id');
    const roleId = (await s.request('GET', 'auth/approle/role/ci/role-id')).body.data.role_id;
    const secretId = (
      await s.request('POST', 'auth/approle/role/ci/secret-id', {
        body: { metadata: { host: 'runner-1' } },
      })
    ).body.data.secret_id;
    const logins = await Promise.all(
      Array.from({ length: 8 }, () =>
        send(s.url, 'POST', 'auth/approle/login', {
          body: { role_id: roleId, secret_id: secretId },
        }),
      ),
    );
    const ok = logins.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(ok[0]?.body.auth).toMatchObject({
      policies: ['default', 'kv-read'],
      metadata: { role_name: 'ci' },
    });
    expect(ok[0]?.body.auth.lease_duration).toBeLessThanOrEqual(300);
    for (const refused of logins.filter((r) => r.status !== 200)) {
      expect(refused).toMatchObject({
        status: 400,
        body: { errors: ['invalid role_id or secret_id'] },
      });
    }
    const token = ok[0]?.body.auth.client_token as string;
    expect((await s.request('GET', 'secret/data/shared', { token })).status).toBe(200);
    expect(
      (await s.request('POST', 'secret/data/shared', { token, body: { data: { v: 2 } } })).status,
    ).toBe(403);
  });

  it('AppRole: expired secret IDs, wrong IDs and deleted roles are refused alike', async () => {
    // The roles earlier tests of the file made (none when this one runs alone): LIST answers
    // 404 when there are none, as Vault's does.
    const roles = async () => {
      const listed = await s.request('GET', 'auth/approle/role?list=true');
      return listed.status === 404 ? [] : (listed.body.data.keys as string[]);
    };
    const before = await roles();
    await s.request('POST', 'auth/approle/role/short', {
      body: { token_policies: ['kv-read'], secret_id_ttl: '1s' },
    });
    await s.request('POST', 'auth/approle/role/short/role-id', {
      body: { role_id: 'custom-role-id-for-short' },
    });
    const secretId = (await s.request('POST', 'auth/approle/role/short/secret-id', { body: {} }))
      .body.data.secret_id;
    const login = (body: Record<string, unknown>) =>
      send(s.url, 'POST', 'auth/approle/login', { body });
    expect((await login({ role_id: 'custom-role-id-for-short', secret_id: secretId })).status).toBe(
      200,
    );
    nowMs += 1100;
    expect((await login({ role_id: 'custom-role-id-for-short', secret_id: secretId })).status).toBe(
      400,
    );
    expect((await login({ role_id: 'nope', secret_id: 'nope' })).body.errors).toEqual([
      'invalid role_id or secret_id',
    ]);
    const fresh = (await s.request('POST', 'auth/approle/role/short/secret-id', { body: {} })).body
      .data.secret_id;
    await s.request('DELETE', 'auth/approle/role/short');
    expect((await login({ role_id: 'custom-role-id-for-short', secret_id: fresh })).status).toBe(
      400,
    );
    expect(await roles()).toEqual(before);
  });
});
