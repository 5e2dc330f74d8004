import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

describe.each(await storageKinds())('token roles over HTTP on %s', (kind) => {
  let s: TestServer;
  let proxied: TestServer;
  let dual: TestServer;
  let minter: string;
  beforeAll(async () => {
    s = await startTestServer(kind);
    await s.policy('minter', {
      'auth/token/create/*': ['update'],
      'auth/token/renew-self': ['update'],
    });
    minter = await s.token({ policies: ['minter'] });
  });
  afterAll(async () => {
    await s.close();
    await proxied?.close();
    await dual?.close();
  });

  const role = async (name: string, body: Record<string, unknown>) => {
    const response = await s.request('POST', `auth/token/roles/${name}`, { body });
    expect(response.status, JSON.stringify(response.body)).toBe(204);
  };
  const createVia = (name: string, body: Record<string, unknown> = {}, token = minter) =>
    s.request('POST', `auth/token/create/${name}`, { token, body });
  const issued = async (name: string, body: Record<string, unknown> = {}, token = minter) => {
    const response = await createVia(name, body, token);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body.auth;
  };
  const lookup = async (token: string) => s.request('GET', 'auth/token/lookup-self', { token });

  it('creates, reads, lists and deletes roles', async () => {
    await role('crud', { allowed_policies: 'a,b', period: '1h', bound_cidrs: ['127.0.0.1/32'] });
    const read = await s.request('GET', 'auth/token/roles/crud');
    expect(read.body.data).toMatchObject({
      name: 'crud',
      allowed_policies: ['a', 'b'],
      token_period: 3600,
      period: 3600,
      token_bound_cidrs: ['127.0.0.1/32'],
      orphan: false,
      renewable: true,
      token_type: 'default-service',
    });
    expect((await s.request('LIST', 'auth/token/roles')).body.data.keys).toContain('crud');
    expect((await s.request('DELETE', 'auth/token/roles/crud')).status).toBe(204);
    expect((await s.request('GET', 'auth/token/roles/crud')).status).toBe(404);
  });

  it('refuses names in another case or spelling, bad settings, and unsupported ones', async () => {
    await role('spelled', {});
    for (const path of ['Spelled', 'SPELLED', 'a.b', 'sp%2Felled', 'spelled%00']) {
      const write = await s.request('POST', `auth/token/roles/${path}`, { body: {} });
      expect(write.status, path).toBeGreaterThanOrEqual(400);
      expect(write.status, path).toBeLessThan(500);
      expect((await createVia(path)).status, path).toBeGreaterThanOrEqual(400);
    }
    for (const path of ['..', '../spelled', 'spelled/..']) {
      const create = await createVia(path);
      expect(create.status, path).toBeGreaterThanOrEqual(400);
      expect(create.status, path).toBeLessThan(500);
    }
    for (const body of [
      { token_type: 'weird' },
      { allowed_policies: ['Admin'] },
      { token_bound_cidrs: ['10.0.0.0/40'] },
      { path_suffix: '../escape' },
      { path_suffix: 'a/./b' },
      { token_num_uses: 3 },
      { allowed_entity_aliases: ['x'] },
    ]) {
      const response = await s.request('POST', 'auth/token/roles/bad', { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    expect((await s.request('GET', 'auth/token/roles/bad')).status).toBe(404);
    const unknown = await createVia('missing');
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual(['unknown role']);
  });

  it('lets a role grant its allowed policies, globs included, and nothing else', async () => {
    await role('deployer', { allowed_policies: ['deploy'], allowed_policies_glob: ['app-*'] });
    const all = await issued('deployer');
    expect(all.policies).toEqual(['default', 'deploy']);
    expect((await issued('deployer', { policies: ['app-web'] })).policies).toEqual([
      'app-web',
      'default',
    ]);
    for (const policies of [['minter'], ['apx'], ['root'], ['App-web']]) {
      expect((await createVia('deployer', { policies })).status, policies[0]).toBe(400);
    }
    // Without allowed policies, the subset rule holds.
    await role('plain', {});
    expect((await createVia('plain', { policies: ['deploy'] })).status).toBe(400);
    expect((await issued('plain')).policies).toEqual(['default', 'minter']);
  });

  it('refuses disallowed policies, globs included, even to root', async () => {
    await role('guarded', {
      disallowed_policies: ['secret-admin'],
      disallowed_policies_glob: ['ops-*'],
    });
    for (const policies of [['secret-admin'], ['ops-x'], ['app', 'ops-']]) {
      expect((await createVia('guarded', { policies }, 'root')).status, policies.join()).toBe(400);
    }
    expect((await issued('guarded', { policies: ['app'] }, 'root')).policies).toEqual([
      'app',
      'default',
    ]);
  });

  it('orphan roles need no sudo; their tokens outlive the creator, others do not', async () => {
    await role('orphans', { orphan: true, allowed_policies: ['deploy'] });
    await role('children', { allowed_policies: ['deploy'] });
    const creator = await s.token({ policies: ['minter'] });
    const orphan = await issued('orphans', {}, creator);
    const child = await issued('children', {}, creator);
    expect(orphan.orphan).toBe(true);
    expect(child.orphan).toBe(false);
    await s.request('POST', 'auth/token/revoke', { body: { token: creator } });
    expect((await lookup(orphan.client_token)).status).toBe(200);
    expect((await lookup(child.client_token)).status).toBe(403);
  });

  it("applies the role's renewable, period, explicit maximum, type and path suffix", async () => {
    await role('fixed', {
      allowed_policies: ['deploy'],
      renewable: false,
      token_explicit_max_ttl: '1h',
      path_suffix: 'ci/main',
    });
    const fixed = await issued('fixed', { explicit_max_ttl: '2h', ttl: '3h' });
    expect(fixed).toMatchObject({ renewable: false, lease_duration: 3600 });
    expect((await lookup(fixed.client_token)).body.data).toMatchObject({
      path: 'auth/token/create/fixed/ci/main',
      explicit_max_ttl: 3600,
      role: 'fixed',
    });
    await role('periodic', { allowed_policies: ['deploy'], token_period: '2h' });
    const periodic = await issued('periodic');
    expect((await lookup(periodic.client_token)).body.data).toMatchObject({ period: 7200 });
    await role('batches', { allowed_policies: ['deploy'], token_type: 'batch' });
    const batch = await issued('batches');
    expect(batch.token_type).toBe('batch');
    expect((await createVia('batches', { type: 'service' })).status).toBe(400);
    await role('either', { allowed_policies: ['deploy'], token_type: 'default-batch' });
    expect((await issued('either')).token_type).toBe('batch');
    expect((await issued('either', { type: 'service' })).token_type).toBe('service');
  });

  it('binds tokens to CIDR blocks, from the peer unless a trusted proxy says otherwise', async () => {
    await role('local', { allowed_policies: ['minter'], token_bound_cidrs: ['127.0.0.1/32'] });
    await role('remote', { allowed_policies: ['minter'], token_bound_cidrs: ['10.0.0.0/8'] });
    const local = await issued('local');
    const remote = await issued('remote');
    expect((await lookup(local.client_token)).body.data.bound_cidrs).toEqual(['127.0.0.1/32']);
    expect((await lookup(remote.client_token)).status).toBe(403);
    // No trusted proxy: X-Forwarded-For is ignored, however it is spelled.
    for (const forwarded of ['10.1.1.1', '::ffff:10.1.1.1', '10.1.1.1, 127.0.0.1']) {
      const spoofed = await s.request('GET', 'auth/token/lookup-self', {
        token: remote.client_token,
        headers: { 'x-forwarded-for': forwarded },
      });
      expect(spoofed.status, forwarded).toBe(403);
    }
    // A batch token carries its binding.
    await role('remote-batch', {
      allowed_policies: ['minter'],
      token_type: 'batch',
      token_bound_cidrs: ['10.0.0.0/8'],
    });
    const remoteBatch = await issued('remote-batch');
    expect((await lookup(remoteBatch.client_token)).status).toBe(403);

    // Behind a trusted proxy (this test's loopback peer), the forwarded address is the client.
    proxied = await startTestServer(kind, { trustedProxies: ['127.0.0.0/8'] });
    await send(proxied.url, 'POST', 'auth/token/roles/remote', {
      token: 'root',
      body: { token_bound_cidrs: ['10.0.0.0/8'] },
    });
    const token = (
      await send(proxied.url, 'POST', 'auth/token/create/remote', { token: 'root', body: {} })
    ).body.auth.client_token;
    const from = (forwarded?: string) =>
      send(proxied.url, 'GET', 'auth/token/lookup-self', {
        token,
        headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
      });
    expect((await from('10.1.1.1')).status).toBe(200);
    expect((await from('::ffff:10.1.1.1')).status).toBe(200);
    expect((await from('10.1.1.1, 127.0.0.1')).status).toBe(200);
    // The rightmost untrusted hop is the client: a spoofed left entry does not help.
    expect((await from('10.1.1.1, 192.0.2.1')).status).toBe(403);
    expect((await from('garbage')).status).toBe(403);
    expect((await from()).status).toBe(403);
  });

  it('reads an IPv4-mapped peer (a dual-stack listener) as its IPv4 address', async () => {
    dual = await startTestServer(kind, { host: '::', trustedProxies: ['127.0.0.1/32'] });
    const url = dual.url.replace('[::]', '127.0.0.1');
    await send(url, 'POST', 'auth/token/roles/loopback', {
      token: 'root',
      body: { token_bound_cidrs: ['127.0.0.1/32'] },
    });
    await send(url, 'POST', 'auth/token/roles/remote', {
      token: 'root',
      body: { token_bound_cidrs: ['10.0.0.0/8'] },
    });
    const issue = async (name: string) =>
      (await send(url, 'POST', `auth/token/create/${name}`, { token: 'root', body: {} })).body.auth
        .client_token as string;
    const loopback = await issue('loopback');
    const remote = await issue('remote');
    const use = (token: string, headers: Record<string, string> = {}) =>
      send(url, 'GET', 'auth/token/lookup-self', { token, headers });
    // The peer is ::ffff:127.0.0.1: inside 127.0.0.1/32, and a trusted proxy.
    expect((await use(loopback)).status).toBe(200);
    expect((await use(remote)).status).toBe(403);
    expect((await use(remote, { 'x-forwarded-for': '10.2.3.4' })).status).toBe(200);
  });

  it('a role-created child and its parent revoked at once: the child never survives', async () => {
    await role('race', { allowed_policies: ['deploy'] });
    for (let round = 0; round < 10; round++) {
      const creator = await s.token({ policies: ['minter'] });
      const [created] = await Promise.all([
        createVia('race', {}, creator),
        s.request('POST', 'auth/token/revoke', { body: { token: creator } }),
      ]);
      if (created.status === 200)
        expect((await lookup(created.body.auth.client_token)).status).toBe(403);
      else expect(created.status).toBe(403);
    }
  });
});
