/**
 * The parameters the boundary hands the ACL (boundary.ts `parametersOf`): a read's query
 * string, a write's body, judged against the deciding rule's parameter constraints before the
 * handler runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, type TestServer } from '../../test/harness.js';

describe('parameter constraints at the boundary', () => {
  let s: TestServer;
  let token: string;
  const path = 'secret/data/params/app';
  const denied = { errors: ['permission denied'] };

  beforeAll(async () => {
    s = await startTestServer('sqlite');
    const policy = `path "secret/data/params/*" {
  capabilities = ["read", "create", "update"]
  allowed_parameters = {
    "version" = ["1"]
    "data" = []
  }
}
`;
    expect((await s.request('POST', 'sys/policies/acl/params', { body: { policy } })).status).toBe(
      204,
    );
    token = await s.token({ policies: ['params'], no_default_policy: true });
    await s.request('POST', path, { body: { data: { v: 'first' } } });
    await s.request('POST', path, { body: { data: { v: 'second' } } });
  });
  afterAll(async () => {
    await s.close();
  });

  it("judges a read's query string: an allowed value passes, another value or name is refused", async () => {
    const first = await send(s.url, 'GET', `${path}?version=1`, { token });
    expect(first.status).toBe(200);
    expect(first.body.data.data).toEqual({ v: 'first' });
    for (const query of ['version=2', 'other=1']) {
      const refused = await send(s.url, 'GET', `${path}?${query}`, { token });
      expect(refused.status, query).toBe(403);
      expect(refused.body).toEqual(denied);
    }
    const latest = await send(s.url, 'GET', path, { token });
    expect(latest.body.data.data).toEqual({ v: 'second' });
  });

  it('judges a HEAD request by its query string, as the GET it stands for', async () => {
    expect((await send(s.url, 'HEAD', `${path}?version=1`, { token })).status).toBe(200);
    for (const query of ['version=2', 'other=1'])
      expect((await send(s.url, 'HEAD', `${path}?${query}`, { token })).status, query).toBe(403);
  });

  it("judges a write's body, not its query string", async () => {
    const written = await send(s.url, 'POST', `${path}?version=2`, {
      token,
      body: { data: { v: 'third' } },
    });
    expect(written.status).toBe(200);
    const refused = await send(s.url, 'POST', path, {
      token,
      body: { data: { v: 'x' }, options: { cas: 3 } },
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual(denied);
    expect((await s.request('GET', path)).body.data.data).toEqual({ v: 'third' });
  });
});
