import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { MAX_TOKEN_TTL_SECONDS } from './token-store.js';

const UNCONSTRAINED =
  'a role needs a login constraint: bind_secret_id, secret_id_bound_cidrs or token_bound_cidrs';

describe.each(await storageKinds())('AppRole login constraints on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { clock: () => 1_800_000_000_000 });
    await s.policy('reader', { 'secret/data/*': ['read'] });
  });
  afterAll(async () => {
    await s.close();
  });

  const login = (body: Record<string, unknown>) =>
    send(s.url, 'POST', 'auth/approle/login', { token: null, body });

  it('refuses a role without bind_secret_id, in every spelling, and stores nothing', async () => {
    for (const bind of [false, 'false']) {
      const written = await s.request('POST', 'auth/approle/role/open', {
        body: { token_policies: ['reader'], bind_secret_id: bind },
      });
      expect(written).toMatchObject({ status: 400, body: { errors: [UNCONSTRAINED] } });
    }
    expect((await s.request('GET', 'auth/approle/role/open')).status).toBe(404);
  });

  it('refuses to switch bind_secret_id off on an existing role, which stays as it was', async () => {
    await s.request('POST', 'auth/approle/role/kept', { body: { token_policies: ['reader'] } });
    const update = await s.request('POST', 'auth/approle/role/kept', {
      body: { token_policies: ['reader', 'more'], bind_secret_id: false },
    });
    expect(update).toMatchObject({ status: 400, body: { errors: [UNCONSTRAINED] } });
    expect((await s.request('GET', 'auth/approle/role/kept')).body.data).toMatchObject({
      bind_secret_id: true,
      token_policies: ['reader'],
    });
    const roleId = (await s.request('GET', 'auth/approle/role/kept/role-id')).body.data.role_id;
    expect(await login({ role_id: roleId })).toMatchObject({
      status: 400,
      body: { errors: ['invalid role_id or secret_id'] },
    });
  });

  it('logs nobody in with the role ID alone for a role stored before the check', async () => {
    await s.request('POST', 'auth/approle/role/legacy', { body: { token_policies: ['reader'] } });
    const { barrier } = s.server.context;
    const stored = await barrier.read<Record<string, unknown>>('auth/approle/role/legacy');
    await barrier.write('auth/approle/role/legacy', { ...stored?.data, bind_secret_id: false });
    const roleId = (await s.request('GET', 'auth/approle/role/legacy/role-id')).body.data.role_id;
    for (const body of [{ role_id: roleId }, { role_id: roleId, secret_id: 'anything' }]) {
      expect(await login(body)).toMatchObject({
        status: 400,
        body: { errors: ['invalid role_id or secret_id'] },
      });
    }
  });

  it('caps token_ttl and token_max_ttl of a role at the 768 h system maximum', async () => {
    await s.request('POST', 'auth/approle/role/long', {
      body: { token_policies: ['reader'], token_ttl: '2000h', token_max_ttl: '9000h' },
    });
    const roleId = (await s.request('GET', 'auth/approle/role/long/role-id')).body.data.role_id;
    const secretId = (await s.request('POST', 'auth/approle/role/long/secret-id', { body: {} }))
      .body.data.secret_id;
    const { auth } = (await login({ role_id: roleId, secret_id: secretId })).body;
    expect(auth.lease_duration).toBe(MAX_TOKEN_TTL_SECONDS);
    const looked = await s.request('GET', 'auth/token/lookup-self', { token: auth.client_token });
    expect(looked.body.data).toMatchObject({
      ttl: MAX_TOKEN_TTL_SECONDS,
      explicit_max_ttl: MAX_TOKEN_TTL_SECONDS,
    });
  });
});
