import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

const INVALID = ['wrapping token is not valid or does not exist'];

describe.each(await storageKinds())('response wrapping over HTTP on %s', (kind) => {
  let s: TestServer;
  let dir: string;
  let auditFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-wrapping-'));
    auditFile = join(dir, 'audit.log');
    s = await startTestServer(kind, { audit: [{ type: 'file', path: auditFile, name: 'file' }] });
  });
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  const wrapped = (path: string, ttl: string, method = 'GET', body?: unknown) =>
    s.request(method, path, {
      headers: { 'x-vault-wrap-ttl': ttl },
      ...(body === undefined ? {} : { body }),
    });
  const unwrap = (token: string) => send(s.url, 'POST', 'sys/wrapping/unwrap', { token });

  it('wraps any route: the client gets wrap_info only, the wrapping token unwraps it once', async () => {
    const canary = `canary-wrapped-${randomBytes(8).toString('hex')}`;
    expect(
      (await s.request('POST', 'secret/data/wrapped', { body: { data: { v: canary } } })).status,
    ).toBe(200);
    const response = await wrapped('secret/data/wrapped', '90s');
    expect(response.status).toBe(200);
    expect(response.text).not.toContain(canary);
    expect(response.body.data).toBeNull();
    const info = response.body.wrap_info;
    expect(info).toMatchObject({ ttl: 90, creation_path: 'secret/data/wrapped' });
    expect(Object.keys(info).sort()).toEqual(
      ['accessor', 'creation_path', 'creation_time', 'token', 'ttl'].sort(),
    );
    expect(Number.isNaN(Date.parse(info.creation_time))).toBe(false);

    // Lookup does not spend it, and tells nothing of the response.
    const lookup = await send(s.url, 'POST', 'sys/wrapping/lookup', {
      body: { token: info.token },
    });
    expect(lookup.status).toBe(200);
    expect(lookup.body.data).toEqual({
      creation_path: 'secret/data/wrapped',
      creation_time: info.creation_time,
      creation_ttl: 90,
    });

    const first = await unwrap(info.token);
    expect(first.status).toBe(200);
    expect(first.body.data.data).toEqual({ v: canary });
    expect(first.body.wrap_info).toBeNull();

    // Replay: the used token unwraps nothing, by header or body, nor looks up.
    expect(await unwrap(info.token)).toMatchObject({ status: 400, body: { errors: INVALID } });
    expect(
      await send(s.url, 'POST', 'sys/wrapping/unwrap', {
        token: null,
        body: { token: info.token },
      }),
    ).toMatchObject({ status: 400, body: { errors: INVALID } });
    expect(
      await send(s.url, 'POST', 'sys/wrapping/lookup', { body: { token: info.token } }),
    ).toMatchObject({ status: 400, body: { errors: INVALID } });

    // The audit log holds the wrapping token and the wrapped value only as HMACs.
    const audit = await readFile(auditFile, 'utf8');
    expect(audit).not.toContain(canary);
    expect(audit).not.toContain(info.token);
    expect(audit).toContain('"wrap_info"');
    // The wrapping token a client unwraps with is recorded as its token, HMAC'd as Vault does,
    // so `sys/audit-hash` finds the unwrap (found by an outside probe: the unauthenticated
    // route recorded no token at all).
    const hashed = (await s.request('POST', 'sys/audit-hash/file', { body: { input: info.token } }))
      .body.data.hash;
    const byHeader = audit
      .split('\n')
      .filter((line) => line.includes('sys/wrapping/unwrap'))
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.request?.client_token === hashed);
    // Two unwraps sent it as their token (the second refused): a request and a response each.
    expect(byHeader.map((entry) => [entry.type, entry.auth?.client_token])).toEqual([
      ['request', hashed],
      ['response', hashed],
      ['request', hashed],
      ['response', hashed],
    ]);
  });

  it('delivers an AppRole secret ID wrapped (the CI flow): unwrap needs no other token', async () => {
    expect(
      (await s.request('POST', 'auth/approle/role/ci', { body: { token_policies: 'default' } }))
        .status,
    ).toBe(204);
    const roleId = (await s.request('GET', 'auth/approle/role/ci/role-id')).body.data.role_id;
    const response = await wrapped('auth/approle/role/ci/secret-id', '1m', 'POST', {});
    expect(response.body.wrap_info.creation_path).toBe('auth/approle/role/ci/secret-id');
    const secretId = (await unwrap(response.body.wrap_info.token)).body.data.secret_id;
    const login = await send(s.url, 'POST', 'auth/approle/login', {
      token: null,
      body: { role_id: roleId, secret_id: secretId },
    });
    expect(login.status).toBe(200);
    expect(login.body.auth.client_token).toMatch(/^cst\./);
  });

  it('wraps a token-issuing response with wrapped_accessor', async () => {
    const response = await wrapped('auth/token/create', '5m', 'POST', { policies: ['default'] });
    const info = response.body.wrap_info;
    expect(typeof info.wrapped_accessor).toBe('string');
    const unwrapped = await unwrap(info.token);
    expect(unwrapped.body.auth.accessor).toBe(info.wrapped_accessor);
    const self = await send(s.url, 'GET', 'auth/token/lookup-self', {
      token: unwrapped.body.auth.client_token,
    });
    expect(self.status).toBe(200);
  });

  it('two concurrent unwraps of one token: exactly one gets the response', async () => {
    for (let round = 0; round < 5; round++) {
      const info = (await wrapped('sys/key-status', '1m')).body.wrap_info;
      const answers = await Promise.all([
        unwrap(info.token),
        unwrap(info.token),
        unwrap(info.token),
      ]);
      expect(answers.map((a) => a.status).sort()).toEqual([200, 400, 400]);
      expect(answers.find((a) => a.status === 200)?.body.data.term).toBeGreaterThanOrEqual(1);
    }
  });

  it('sys/wrapping/wrap wraps arbitrary data (5 minutes by default); rewrap moves it to a new token', async () => {
    const data = { password: `canary-${randomBytes(6).toString('hex')}`, n: 3 };
    const response = await s.request('POST', 'sys/wrapping/wrap', { body: data });
    expect(response.status).toBe(200);
    expect(response.body.wrap_info).toMatchObject({ ttl: 300, creation_path: 'sys/wrapping/wrap' });
    const old = response.body.wrap_info.token;
    const rewrapped = await s.request('POST', 'sys/wrapping/rewrap', { body: { token: old } });
    expect(rewrapped.status).toBe(200);
    expect(rewrapped.body.wrap_info).toMatchObject({
      ttl: 300,
      creation_path: 'sys/wrapping/wrap',
    });
    expect(rewrapped.body.wrap_info.token).not.toBe(old);
    expect(await unwrap(old)).toMatchObject({ status: 400, body: { errors: INVALID } });
    expect((await unwrap(rewrapped.body.wrap_info.token)).body.data).toEqual(data);
    expect(await s.request('POST', 'sys/wrapping/wrap', { body: {} })).toMatchObject({
      status: 400,
      body: { errors: ['empty request body'] },
    });
  });

  it('refuses garbage and out-of-bounds wrap TTLs before the handler runs (no write)', async () => {
    for (const ttl of ['abc', '-5s', '0', '', '1h garbage', '769h', '99999999999', '1.5.3s']) {
      const response = await wrapped('secret/data/not-written', ttl, 'POST', {
        data: { v: 'x' },
      });
      expect(response.status, ttl).toBe(400);
      expect(response.body.errors[0], ttl).toMatch(/X-Vault-Wrap-TTL/);
    }
    expect((await s.request('GET', 'secret/data/not-written')).status).toBe(404);
    expect((await wrapped('sys/key-status', '768h')).body.wrap_info.ttl).toBe(768 * 3600);
    expect((await wrapped('sys/key-status', '1')).body.wrap_info.ttl).toBe(1);
  });

  it('a wrapping token is not a token for anything else, and other tokens are not wrapping tokens', async () => {
    const info = (await wrapped('sys/key-status', '1m')).body.wrap_info;
    expect((await send(s.url, 'GET', 'sys/key-status', { token: info.token })).status).toBe(403);
    const normal = await s.token({ policies: ['default'] });
    expect(await unwrap(normal)).toMatchObject({ status: 400, body: { errors: INVALID } });
    expect(
      await send(s.url, 'POST', 'sys/wrapping/lookup', { body: { token: 'root' } }),
    ).toMatchObject({ status: 400, body: { errors: INVALID } });
    // The root token still works: a refused unwrap spent nothing of it.
    expect((await s.request('GET', 'sys/key-status')).status).toBe(200);
    // Wrap and rewrap need a grant; unwrap and lookup need none.
    expect(
      (await send(s.url, 'POST', 'sys/wrapping/wrap', { token: normal, body: { a: 1 } })).status,
    ).toBe(403);
    expect(
      (await send(s.url, 'POST', 'sys/wrapping/rewrap', { token: null, body: { token: 't' } }))
        .status,
    ).toBe(403);
  });

  it('errors are not wrapped, and neither is a 204', async () => {
    const missing = await wrapped('secret/data/none', '1m');
    expect(missing.status).toBe(404);
    expect(missing.body.wrap_info).toBeUndefined();
    const noBody = await wrapped('sys/policies/acl/wrapped', '1m', 'POST', {
      policy: 'path "x" { capabilities = ["read"] }',
    });
    expect(noBody.status).toBe(204);
  });
});

describe.each(await storageKinds())('wrapping tokens expire on %s', (kind) => {
  let s: TestServer;
  let now = Date.now();
  beforeAll(async () => {
    s = await startTestServer(kind, { clock: () => now });
  });
  afterAll(async () => {
    await s.close();
  });

  it('an expired wrapping token unwraps nothing, and its stored response is dropped at the next wrap', async () => {
    const info = (
      await s.request('GET', 'sys/key-status', { headers: { 'x-vault-wrap-ttl': '30s' } })
    ).body.wrap_info;
    now += 31_000;
    expect(await send(s.url, 'POST', 'sys/wrapping/unwrap', { token: info.token })).toMatchObject({
      status: 400,
      body: { errors: INVALID },
    });
    const stored = () =>
      s.server.context.barrier.listPaths(`sys/wrapping/response/${info.accessor}`);
    expect(await stored()).toHaveLength(1);
    expect(
      (await s.request('POST', 'sys/wrapping/wrap', { body: { a: 1 } })).body.wrap_info.ttl,
    ).toBe(300);
    expect(await stored()).toEqual([]);
  });
});
