/**
 * Policies over HTTP, on every storage: HCL and JSON written and read back as written, the
 * older shorthand, merged blocks, parameter constraints judged at the boundary, and the
 * sys/capabilities routes. Policies are written in HCL, as users write them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

const write = (s: TestServer, name: string, policy: string) =>
  s.request('POST', `sys/policies/acl/${name}`, { body: { policy } });

describe.each(await storageKinds())('policies over HTTP on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => {
    await s.close();
  });

  /** A token holding only the given policies (written first, in HCL). */
  const tokenWith = async (policies: Record<string, string>): Promise<string> => {
    for (const [name, text] of Object.entries(policies)) {
      const written = await write(s, name, text);
      expect(written.status, written.text).toBe(204);
    }
    return s.token({ policies: Object.keys(policies), no_default_policy: true });
  };

  it('stores HCL and JSON policies and reads them back exactly as written, on both routes', async () => {
    const hcl = `# the app's secrets\npath "secret/data/app/*" {\n  capabilities = ["read", "list"]\n}\n`;
    const json = '{"path": {"secret/data/app/*": {"capabilities": ["read"]}}}';
    expect((await write(s, 'as-hcl', hcl)).status).toBe(204);
    expect((await write(s, 'as-json', json)).status).toBe(204);
    const read = await s.request('GET', 'sys/policies/acl/as-hcl');
    expect(read.body.data).toEqual({ name: 'as-hcl', policy: hcl, rules: hcl });
    expect((await s.request('GET', 'sys/policy/as-json')).body.rules).toBe(json);
    // The older route takes `rules`, in HCL too.
    const legacy = await s.request('POST', 'sys/policy/legacy', { body: { rules: hcl } });
    expect(legacy.status).toBe(204);
    expect((await s.request('GET', 'sys/policy/legacy')).body.rules).toBe(hcl);
  });

  it('refuses malformed HCL with a 400 that says where, and keeps the policy it had', async () => {
    const good = 'path "secret/data/kept/*" {\n  capabilities = ["read"]\n}\n';
    await write(s, 'kept', good);
    const bad = await write(
      s,
      'kept',
      'path "secret/data/kept/*" {\n  capabilities = ["read"\n}\n',
    );
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([
      'policy is not valid HCL: policy:3,1-2: Missing item separator; Expected a comma to mark the beginning of the next item.',
    ]);
    for (const text of ['path "a" { capabilities = [read] }', 'path "a" {\n  policy = "admin"\n}'])
      expect((await write(s, 'kept', text)).status).toBe(400);
    expect((await s.request('GET', 'sys/policies/acl/kept')).body.data.policy).toBe(good);
  });

  it('refuses another spelling of a policy name before the ACL', async () => {
    const hcl = 'path "a" { capabilities = ["read"] }';
    for (const name of ['Kept', 'KEPT', 'kept%20', 'k%C3%A9pt'])
      expect((await write(s, name, hcl)).status).toBe(400);
  });

  it('grants the older shorthand: read is read and list, write adds create/update/delete', async () => {
    await s.request('POST', 'secret/data/short/a', { body: { data: { v: '1' } } });
    const reader = await tokenWith({
      'short-read': 'path "secret/+/short/*" {\n  policy = "read"\n}\n',
    });
    expect((await s.request('GET', 'secret/data/short/a', { token: reader })).status).toBe(200);
    expect((await s.request('LIST', 'secret/metadata/short', { token: reader })).status).toBe(200);
    const denied = await s.request('POST', 'secret/data/short/a', {
      token: reader,
      body: { data: { v: '2' } },
    });
    expect(denied.status).toBe(403);
    const writer = await tokenWith({
      'short-write': 'path "secret/data/short/*" {\n  policy = "write"\n}\n',
    });
    const written = await s.request('POST', 'secret/data/short/b', {
      token: writer,
      body: { data: { v: '2' } },
    });
    expect(written.status).toBe(200);
  });

  it('merges two blocks for one path, in one policy or two: deny wins, capabilities add up', async () => {
    await s.request('POST', 'secret/data/merge/a', { body: { data: { v: '1' } } });
    const twice = await tokenWith({
      'twice-in-one': `path "secret/data/merge/*" {\n  capabilities = ["read"]\n}\npath "secret/data/merge/*" {\n  capabilities = ["deny"]\n}\n`,
    });
    expect((await s.request('GET', 'secret/data/merge/a', { token: twice })).status).toBe(403);
    const across = await tokenWith({
      'merge-allow': 'path "secret/*" {\n  capabilities = ["read", "update"]\n}\n',
      'merge-deny': 'path "secret/*" {\n  capabilities = ["deny"]\n}\n',
    });
    expect((await s.request('GET', 'secret/data/merge/a', { token: across })).status).toBe(403);
    const added = await tokenWith({
      'merge-read': 'path "secret/data/merge/*" {\n  capabilities = ["read"]\n}\n',
      'merge-update': 'path "secret/data/merge/*" {\n  capabilities = ["update"]\n}\n',
    });
    expect((await s.request('GET', 'secret/data/merge/a', { token: added })).status).toBe(200);
    const update = await s.request('POST', 'secret/data/merge/a', {
      token: added,
      body: { data: { v: '2' } },
    });
    expect(update.status).toBe(200);
    // A more specific grant beats a less specific deny, as in Vault.
    const specific = await tokenWith({
      'merge-deny': 'path "secret/*" {\n  capabilities = ["deny"]\n}\n',
      'merge-exact': 'path "secret/data/merge/a" {\n  capabilities = ["read"]\n}\n',
    });
    expect((await s.request('GET', 'secret/data/merge/a', { token: specific })).status).toBe(200);
  });

  it('matches path patterns case-sensitively: another case is another path', async () => {
    await s.request('POST', 'secret/data/CaseApp/a', { body: { data: { v: '1' } } });
    const token = await tokenWith({
      'case-app': 'path "secret/data/caseapp/*" {\n  capabilities = ["read"]\n}\n',
    });
    expect((await s.request('GET', 'secret/data/CaseApp/a', { token })).status).toBe(403);
  });

  describe('parameter constraints', () => {
    let creator: string;
    beforeAll(async () => {
      // Policies a child token may name must be the creator's own: the ACL answers first.
      creator = await tokenWith({
        'token-maker': `path "auth/token/create" {
  capabilities = ["update"]
  allowed_parameters = {
    "policies"          = ["app-*", "token-maker"]
    "ttl"               = ["1h", "2*"]
    "no_default_policy" = []
    "meta"              = []
  }
  denied_parameters = {
    "policies" = ["app-admin"]
  }
}
`,
        'app-one': 'path "secret/data/app-one/*" {\n  capabilities = ["read"]\n}\n',
        'app-admin': 'path "secret/*" {\n  capabilities = ["read"]\n}\n',
      });
    });
    const create = (body: unknown, headers: Record<string, string> = {}) =>
      send(s.url, 'POST', 'auth/token/create', { token: creator, body, headers });

    it('allow listed parameters with matching values (globs, lists, comma strings)', async () => {
      for (const body of [
        { policies: ['app-one'], ttl: '1h' },
        { policies: 'app-one', ttl: '2h', no_default_policy: true },
        { policies: 'app-one,token-maker', ttl: '25m' },
        { policies: ['app-one'], meta: { nested: 'any value: nested keys are not parameters' } },
        {},
      ]) {
        const response = await create(body);
        expect(response.status, `${JSON.stringify(body)}: ${response.text}`).toBe(200);
      }
    });

    it('refuse an unlisted parameter, a value off the list, and a denied value in any form', async () => {
      for (const body of [
        { policies: ['app-one'], num_uses: 1 },
        { policies: ['app-one'], ttl: '3h' },
        { policies: ['app-one'], ttl: '' },
        { policies: ['other'] },
        { policies: 'app-one,other' },
        { policies: 'app-one,token-maker,x' },
        { policies: [] },
        { policies: ['app-admin'] },
        { policies: 'app-one, app-admin' },
        { policies: ['app-one', 'app-admin'] },
        { Policies: ['app-admin'] },
        { POLICIES: 'app-admin' },
        [{ policies: ['app-one'] }],
      ]) {
        const response = await create(body);
        expect(response.status, JSON.stringify(body)).toBe(403);
        expect(response.body.errors).toEqual(['permission denied']);
      }
    });

    it('are judged on the JSON the handler reads, whatever the Content-Type', async () => {
      const form = await send(s.url, 'POST', 'auth/token/create', {
        token: creator,
        raw: 'policies=app-admin',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(form.status).toBe(400);
      const jsonAsForm = await send(s.url, 'POST', 'auth/token/create', {
        token: creator,
        raw: JSON.stringify({ policies: ['app-admin'] }),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(jsonAsForm.status).toBe(403);
    });

    it('require the required parameters, on writes and on reads (the query)', async () => {
      await s.request('POST', 'secret/data/req/a', { body: { data: { v: '1' } } });
      const token = await tokenWith({
        required: `path "secret/data/req/*" {
  capabilities = ["create", "update", "read"]
  required_parameters = ["options", "Version"]
}
`,
      });
      const writeWith = (body: unknown) => s.request('POST', 'secret/data/req/a', { token, body });
      expect((await writeWith({ data: { v: '2' } })).status).toBe(403);
      expect((await writeWith({ data: { v: '2' }, options: {}, Version: 1 })).status).toBe(403);
      expect((await writeWith({ data: { v: '2' }, options: {}, version: 1 })).status).toBe(200);
      expect((await s.request('GET', 'secret/data/req/a', { token })).status).toBe(403);
      const read = await s.request('GET', 'secret/data/req/a?version=1&options=x', { token });
      expect(read.status).toBe(200);
    });

    it('deny every parameter with "*", and none when the body is empty', async () => {
      const token = await tokenWith({
        'no-params': `path "auth/token/create" {
  capabilities = ["update"]
  denied_parameters = { "*" = [] }
}
path "auth/token/create-orphan" {
  capabilities = ["update"]
}
`,
      });
      const withBody = await s.request('POST', 'auth/token/create', {
        token,
        body: { ttl: '1h' },
      });
      expect(withBody.status).toBe(403);
      expect((await s.request('POST', 'auth/token/create', { token, body: {} })).status).toBe(200);
    });

    it('merge across policies as Vault does: an empty list wins, lists join', async () => {
      const token = await tokenWith({
        'kv-data-only': `path "secret/data/merged/*" {
  capabilities = ["create", "update"]
  allowed_parameters = { "data" = [] }
}
`,
        'kv-options-too': `path "secret/data/merged/*" {
  capabilities = ["create"]
  allowed_parameters = { "options" = [{ "cas" = 0 }] }
}
`,
      });
      const kvWrite = (body: unknown) => s.request('POST', 'secret/data/merged/a', { token, body });
      expect((await kvWrite({ data: { v: '1' }, options: { cas: 1 } })).status).toBe(403);
      expect((await kvWrite({ data: { v: '1' }, options: { cas: 0 } })).status).toBe(200);
      expect((await kvWrite({ data: { v: '2' } })).status).toBe(200);
      expect((await kvWrite({ data: { v: '2' }, extra: 1 })).status).toBe(403);
    });
  });

  describe('sys/capabilities and sys/capabilities-accessor', () => {
    let target: { token: string; accessor: string };
    beforeAll(async () => {
      await write(
        s,
        'caps-target',
        'path "secret/data/caps/*" {\n  capabilities = ["read", "list"]\n}\npath "secret/data/caps/locked" {\n  capabilities = ["deny"]\n}\n',
      );
      const auth = (
        await s.request('POST', 'auth/token/create', {
          body: { policies: ['caps-target'], no_default_policy: true, num_uses: 1 },
        })
      ).body.auth;
      target = { token: auth.client_token, accessor: auth.accessor };
    });
    const paths = ['secret/data/caps/a', 'secret/data/caps/locked', 'transit/keys/x'];
    const expected = {
      'secret/data/caps/a': ['list', 'read'],
      'secret/data/caps/locked': ['deny'],
      'transit/keys/x': ['deny'],
      capabilities: ['list', 'read'],
    };

    it('answer for another token, by token or by accessor, without spending its uses', async () => {
      const byToken = await s.request('POST', 'sys/capabilities', {
        body: { token: target.token, paths },
      });
      expect(byToken.status).toBe(200);
      expect(byToken.body.data).toEqual(expected);
      const byAccessor = await s.request('POST', 'sys/capabilities-accessor', {
        body: { accessor: target.accessor, paths },
      });
      expect(byAccessor.body.data).toEqual(expected);
      // The token's one use is still there: spent here, and then it is gone.
      await s.request('POST', 'secret/data/caps/a', { body: { data: { v: '1' } } });
      expect((await s.request('GET', 'secret/data/caps/a', { token: target.token })).status).toBe(
        200,
      );
      expect((await s.request('GET', 'secret/data/caps/a', { token: target.token })).status).toBe(
        403,
      );
      const root = await s.request('POST', 'sys/capabilities', {
        body: { token: s.rootToken, path: 'anything' },
      });
      expect(root.body.data.capabilities).toEqual(['root']);
    });

    it('refuse an unknown token or accessor without echoing it, and need a grant', async () => {
      const unknown = await s.request('POST', 'sys/capabilities', {
        body: { token: 'cst.not-a-token-canary', paths },
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body.errors).toEqual(['invalid token']);
      const badAccessor = await s.request('POST', 'sys/capabilities-accessor', {
        body: { accessor: 'not-an-accessor-canary', paths },
      });
      expect(badAccessor.body.errors).toEqual(['invalid accessor']);
      expect(
        (await s.request('POST', 'sys/capabilities', { body: { token: target.token } })).status,
      ).toBe(400);
      const plain = await s.token({ policies: ['default'] });
      for (const route of ['sys/capabilities', 'sys/capabilities-accessor']) {
        const denied = await s.request('POST', route, {
          token: plain,
          body: { token: target.token, accessor: target.accessor, paths },
        });
        expect(denied.status).toBe(403);
      }
    });
  });
});
