import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

describe.each(await storageKinds())('AppRole secret IDs and CIDR bindings on %s', (kind) => {
  let s: TestServer;
  let dir: string;
  let auditFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-approle-'));
    auditFile = join(dir, 'audit.log');
    s = await startTestServer(kind, { audit: [{ type: 'file', path: auditFile, name: 'file' }] });
    await s.policy('reader', { 'secret/data/*': ['read'] });
  });
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  const role = async (name: string, body: Record<string, unknown>) => {
    const response = await s.request('POST', `auth/approle/role/${name}`, { body });
    expect(response.status, JSON.stringify(response.body)).toBe(204);
    return (await s.request('GET', `auth/approle/role/${name}/role-id`)).body.data
      .role_id as string;
  };
  const secretId = async (name: string, body: Record<string, unknown> = {}) => {
    const response = await s.request('POST', `auth/approle/role/${name}/secret-id`, { body });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body.data as { secret_id: string; secret_id_accessor: string };
  };
  const login = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    send(s.url, 'POST', 'auth/approle/login', { token: null, body, headers });

  it('lists, looks up and destroys secret IDs by value and by accessor', async () => {
    const roleId = await role('svc', { token_policies: ['reader'], secret_id_num_uses: 5 });
    const one = await secretId('svc', { metadata: { host: 'a' }, num_uses: 2 });
    const two = await secretId('svc');
    const listed = await s.request('LIST', 'auth/approle/role/svc/secret-id');
    expect(listed.body.data.keys).toEqual([one.secret_id_accessor, two.secret_id_accessor].sort());
    const byValue = await s.request('POST', 'auth/approle/role/svc/secret-id/lookup', {
      body: { secret_id: one.secret_id },
    });
    expect(byValue.body.data).toMatchObject({
      secret_id_accessor: one.secret_id_accessor,
      secret_id_num_uses: 2,
      metadata: { host: 'a' },
      cidr_list: [],
    });
    expect(byValue.text).not.toContain(one.secret_id);
    const byAccessor = await s.request('POST', 'auth/approle/role/svc/secret-id-accessor/lookup', {
      body: { secret_id_accessor: one.secret_id_accessor },
    });
    expect(byAccessor.body.data).toEqual(byValue.body.data);
    expect((await login({ role_id: roleId, secret_id: one.secret_id })).status).toBe(200);
    expect(
      (
        await s.request('POST', 'auth/approle/role/svc/secret-id/lookup', {
          body: { secret_id: one.secret_id },
        })
      ).body.data.secret_id_num_uses,
    ).toBe(1);
    await s.request('POST', 'auth/approle/role/svc/secret-id-accessor/destroy', {
      body: { secret_id_accessor: one.secret_id_accessor },
    });
    expect((await login({ role_id: roleId, secret_id: one.secret_id })).status).toBe(400);
    await s.request('POST', 'auth/approle/role/svc/secret-id/destroy', {
      body: { secret_id: two.secret_id },
    });
    expect((await login({ role_id: roleId, secret_id: two.secret_id })).status).toBe(400);
    // Unknown: 204 by value (as Vault), 404 by accessor; nothing to list.
    expect(
      (
        await s.request('POST', 'auth/approle/role/svc/secret-id/lookup', {
          body: { secret_id: two.secret_id },
        })
      ).status,
    ).toBe(204);
    expect(
      (
        await s.request('POST', 'auth/approle/role/svc/secret-id-accessor/lookup', {
          body: { secret_id_accessor: two.secret_id_accessor },
        })
      ).status,
    ).toBe(404);
    expect((await s.request('LIST', 'auth/approle/role/svc/secret-id')).status).toBe(404);
    // Another role's secret ID is not found through this one.
    await role('other', { token_policies: ['reader'] });
    const foreign = await secretId('other');
    expect(
      (
        await s.request('POST', 'auth/approle/role/svc/secret-id-accessor/lookup', {
          body: { secret_id_accessor: foreign.secret_id_accessor },
        })
      ).status,
    ).toBe(404);
  });

  it('takes a custom secret ID, once, and never writes it to the audit log', async () => {
    const roleId = await role('custom', { token_policies: ['reader'] });
    const chosen = `canary-${randomBytes(12).toString('hex')}`;
    const made = await s.request('POST', 'auth/approle/role/custom/custom-secret-id', {
      body: { secret_id: chosen },
    });
    expect(made.status).toBe(200);
    expect(made.body.data.secret_id).toBe(chosen);
    const again = await s.request('POST', 'auth/approle/role/custom/custom-secret-id', {
      body: { secret_id: chosen },
    });
    expect(again.status).toBe(400);
    expect(again.text).not.toContain(chosen);
    expect((await login({ role_id: roleId, secret_id: chosen })).status).toBe(200);
    expect(await readFile(auditFile, 'utf8')).not.toContain(chosen);
  });

  it("keeps a secret ID's uses, TTL and CIDR blocks within the role's", async () => {
    await role('limited', {
      token_policies: ['reader'],
      secret_id_num_uses: 3,
      secret_id_ttl: '1h',
      secret_id_bound_cidrs: ['127.0.0.0/8'],
      token_bound_cidrs: ['127.0.0.0/8'],
    });
    for (const body of [
      { num_uses: 4 },
      { ttl: '2h' },
      { cidr_list: ['10.0.0.0/8'] },
      { cidr_list: ['0.0.0.0/0'] },
      { token_bound_cidrs: ['10.0.0.1/32'] },
      { cidr_list: ['not-a-block'] },
    ]) {
      const response = await s.request('POST', 'auth/approle/role/limited/secret-id', { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    await secretId('limited', { num_uses: 2, ttl: '30m', cidr_list: '127.0.0.1/32' });
  });

  it('checks secret_id_bound_cidrs and cidr_list against the client address, not a forged header', async () => {
    const away = await role('away', {
      token_policies: ['reader'],
      secret_id_bound_cidrs: ['10.0.0.0/8'],
    });
    const awaySecret = await secretId('away');
    for (const headers of [
      {},
      { 'x-forwarded-for': '10.1.2.3' },
      { 'x-forwarded-for': '::ffff:10.1.2.3' },
    ]) {
      const refused = await login({ role_id: away, secret_id: awaySecret.secret_id }, headers);
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual(['invalid role_id or secret_id']);
    }
    const near = await role('near', {
      token_policies: ['reader'],
      secret_id_bound_cidrs: ['127.0.0.0/8'],
    });
    const pinned = await secretId('near', { cidr_list: ['127.0.0.2/32'] });
    expect((await login({ role_id: near, secret_id: pinned.secret_id })).status).toBe(400);
    const open = await secretId('near', { cidr_list: ['127.0.0.1/32'] });
    expect((await login({ role_id: near, secret_id: open.secret_id })).status).toBe(200);
  });

  it("binds the tokens to token_bound_cidrs (the secret ID's, else the role's)", async () => {
    const id = await role('bound', {
      token_policies: ['reader'],
      token_bound_cidrs: ['10.0.0.0/8'],
    });
    const plain = await secretId('bound');
    const far = (await login({ role_id: id, secret_id: plain.secret_id })).body.auth.client_token;
    expect((await s.request('GET', 'secret/data/x', { token: far })).status).toBe(403);
    await s.request('POST', 'auth/approle/role/bound/token-bound-cidrs', {
      body: { token_bound_cidrs: ['127.0.0.0/8'] },
    });
    const narrowed = await secretId('bound', { token_bound_cidrs: ['127.0.0.1/32'] });
    const near = (await login({ role_id: id, secret_id: narrowed.secret_id })).body.auth
      .client_token;
    const lookup = await s.request('GET', 'auth/token/lookup-self', { token: near });
    expect(lookup.status).toBe(200);
    expect(lookup.body.data.bound_cidrs).toEqual(['127.0.0.1/32']);
  });

  it('allows bind_secret_id false only with a CIDR constraint', async () => {
    const refused = await s.request('POST', 'auth/approle/role/loose', {
      body: { token_policies: ['reader'], bind_secret_id: false },
    });
    expect(refused.status).toBe(400);
    const id = await role('loose', {
      token_policies: ['reader'],
      bind_secret_id: false,
      secret_id_bound_cidrs: ['127.0.0.1/32'],
    });
    const ok = await login({ role_id: id });
    expect(ok.status).toBe(200);
    // Removing the last constraint is refused; the role stays as it was.
    expect(
      (await s.request('DELETE', 'auth/approle/role/loose/secret-id-bound-cidrs')).status,
    ).toBe(400);
    expect(
      (await s.request('GET', 'auth/approle/role/loose/secret-id-bound-cidrs')).body.data,
    ).toEqual({
      secret_id_bound_cidrs: ['127.0.0.1/32'],
    });
    await role('far', {
      token_policies: ['reader'],
      bind_secret_id: false,
      secret_id_bound_cidrs: ['10.0.0.0/8'],
    });
    const farId = (await s.request('GET', 'auth/approle/role/far/role-id')).body.data.role_id;
    expect((await login({ role_id: farId }, { 'x-forwarded-for': '10.0.0.1' })).status).toBe(400);
  });

  it('reads, sets and resets each setting on its own route', async () => {
    await role('fields', { token_policies: ['reader'] });
    const get = async (route: string) =>
      (await s.request('GET', `auth/approle/role/fields/${route}`)).body.data;
    expect(await get('policies')).toEqual({ policies: ['reader'], token_policies: ['reader'] });
    expect(
      (await s.request('POST', 'auth/approle/role/fields/policies', { body: { policies: 'a,b' } }))
        .status,
    ).toBe(204);
    expect(await get('policies')).toEqual({ policies: ['a', 'b'], token_policies: ['a', 'b'] });
    await s.request('POST', 'auth/approle/role/fields/token-ttl', { body: { token_ttl: '90m' } });
    expect(await get('token-ttl')).toEqual({ token_ttl: 5400 });
    await s.request('POST', 'auth/approle/role/fields/period', { body: { period: '1h' } });
    expect(await get('period')).toEqual({ period: 3600, token_period: 3600 });
    await s.request('DELETE', 'auth/approle/role/fields/token-ttl');
    expect(await get('token-ttl')).toEqual({ token_ttl: 0 });
    expect(
      (await s.request('POST', 'auth/approle/role/fields/secret-id-num-uses', { body: {} })).status,
    ).toBe(400);
    expect(
      (
        await s.request('POST', 'auth/approle/role/fields/bind-secret-id', {
          body: { bind_secret_id: false },
        })
      ).status,
    ).toBe(400);
    for (const policies of [['Root'], ['reader', 'ADMIN'], 'Reader']) {
      const viaRoute = await s.request('POST', 'auth/approle/role/fields/policies', {
        body: { policies },
      });
      expect(viaRoute.status).toBe(400);
      const viaRole = await s.request('POST', 'auth/approle/role/fields', {
        body: { token_policies: policies },
      });
      expect(viaRole.status).toBe(400);
    }
    expect(await get('policies')).toEqual({ policies: ['a', 'b'], token_policies: ['a', 'b'] });
    expect((await s.request('GET', 'auth/approle/role/missing/policies')).status).toBe(404);
    expect(
      (await s.request('POST', 'auth/approle/role/missing/policies', { body: { policies: ['a'] } }))
        .status,
    ).toBe(404);
    expect((await s.request('GET', 'auth/approle/role/missing')).status).toBe(404);
  });

  it('issues periodic and batch tokens when the role says so', async () => {
    const id = await role('kinds', {
      token_policies: ['reader'],
      token_period: '2h',
      token_type: 'service',
    });
    const periodic = (await login({ role_id: id, secret_id: (await secretId('kinds')).secret_id }))
      .body.auth;
    expect(
      (await s.request('GET', 'auth/token/lookup-self', { token: periodic.client_token })).body.data
        .period,
    ).toBe(7200);
    await s.request('POST', 'auth/approle/role/kinds', {
      body: { token_type: 'batch', token_period: 0 },
    });
    const batch = (await login({ role_id: id, secret_id: (await secretId('kinds')).secret_id }))
      .body.auth;
    expect(batch.token_type).toBe('batch');
    expect(batch.client_token.startsWith('hvb.')).toBe(true);
    expect(
      (await s.request('POST', 'auth/approle/role/kinds', { body: { token_type: 'other' } }))
        .status,
    ).toBe(400);
  });
});
