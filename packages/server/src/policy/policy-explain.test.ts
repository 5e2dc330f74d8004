/** `sys/policies/explain` over HTTP, on every storage: which rule decided, and why. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

describe.each(await storageKinds())('sys/policies/explain on %s', (kind) => {
  let s: TestServer;
  let accessor: string;
  beforeAll(async () => {
    s = await startTestServer(kind);
    const policies = {
      'app-rw': `path "secret/data/app/*" {
  capabilities = ["read", "update"]
  allowed_parameters = { "data" = [] }
}
path "secret/data/+/shared" {
  capabilities = ["read"]
}
`,
      lockdown: 'path "secret/data/app/*" {\n  capabilities = ["deny"]\n}\n',
      'ops-read':
        'path "secret/data/ops/*" {\n  policy = "read"\n}\npath "secret/*" {\n  capabilities = ["list"]\n}\n',
    };
    for (const [name, policy] of Object.entries(policies))
      await s.request('POST', `sys/policies/acl/${name}`, { body: { policy } });
    accessor = (
      await s.request('POST', 'auth/token/create', {
        body: { policies: ['ops-read', 'app-rw'] },
      })
    ).body.auth.accessor;
  });
  afterAll(async () => {
    await s.close();
  });

  const explain = (body: Record<string, unknown>, token = s.rootToken) =>
    s.request('POST', 'sys/policies/explain', { token, body: { accessor, ...body } });

  it('names the deciding rule, the granting policy and the less specific rules that matched', async () => {
    const answer = await explain({ path: 'secret/data/ops/db', operation: 'read' });
    expect(answer.status).toBe(200);
    expect(answer.body.data).toEqual({
      allowed: true,
      reason: 'rule "secret/data/ops/*" grants read (from policy "ops-read")',
      path: 'secret/data/ops/db',
      operation: 'read',
      policies: ['app-rw', 'default', 'ops-read'],
      rule: {
        pattern: 'secret/data/ops/*',
        capabilities: ['read', 'list'],
        policies: [{ name: 'ops-read', capabilities: ['read', 'list'] }],
      },
      other_rules: [
        {
          pattern: 'secret/*',
          capabilities: ['list'],
          policies: [{ name: 'ops-read', capabilities: ['list'] }],
        },
      ],
    });
    const missing = await explain({ path: 'secret/data/ops/db', operation: 'update' });
    expect(missing.body.data.allowed).toBe(false);
    expect(missing.body.data.reason).toBe('rule "secret/data/ops/*" grants read, list, not update');
    const none = await explain({ path: 'transit/keys/x', operation: 'read' });
    expect(none.body.data).toMatchObject({
      allowed: false,
      reason: "no rule of the token's policies matches the path",
      rule: null,
    });
  });

  it('says which policy denies, and which parameter breaks a constraint', async () => {
    const lockdown = (
      await s.request('POST', 'auth/token/create', { body: { policies: ['app-rw', 'lockdown'] } })
    ).body.auth.accessor;
    const denied = await explain({
      accessor: lockdown,
      path: 'secret/data/app/db',
      operation: 'read',
    });
    expect(denied.body.data).toMatchObject({
      allowed: false,
      reason:
        'rule "secret/data/app/*": policy "lockdown" says deny, which refuses every operation',
      rule: {
        capabilities: ['deny'],
        policies: [
          { name: 'app-rw', capabilities: ['read', 'update'] },
          { name: 'lockdown', capabilities: ['deny'] },
        ],
      },
    });
    const update = (parameters?: unknown) =>
      explain({ path: 'secret/data/app/db', operation: 'update', parameters });
    expect((await update({ data: {}, Options: {} })).body.data.reason).toBe(
      'rule "secret/data/app/*": parameter "Options" is not in allowed_parameters',
    );
    expect((await update({ data: {} })).body.data).toMatchObject({
      allowed: true,
      reason:
        'rule "secret/data/app/*" grants update (from policy "app-rw"), and the parameters keep its constraints',
      rule: { allowed_parameters: { data: [] } },
    });
    expect((await update()).body.data.reason).toMatch(/its parameter constraints were not checked/);
    const list = await explain({ path: 'secret/metadata/app', operation: 'list' });
    expect(list.body.data).toMatchObject({ allowed: true, path: 'secret/metadata/app/' });
    const sudo = await explain({ path: 'secret/data/ops/db', operation: 'read', sudo: true });
    expect(sudo.body.data.reason).toBe(
      'rule "secret/data/ops/*" grants read but the path needs sudo too',
    );
  });

  it('needs sudo, and refuses bad input by name', async () => {
    await s.request('POST', 'sys/policies/acl/explainer', {
      body: { policy: 'path "sys/policies/explain" {\n  capabilities = ["update"]\n}\n' },
    });
    const noSudo = await s.token({ policies: ['explainer'] });
    expect((await explain({ path: 'a', operation: 'read' }, noSudo)).status).toBe(403);
    for (const [body, message] of [
      [
        { path: 'a', operation: 'sudo' },
        'operation must be one of create, read, update, patch, delete, list',
      ],
      [{ path: 'a', operation: 'read', accessor: 'nope' }, 'invalid accessor'],
      [{ operation: 'read' }, 'missing path'],
      [
        { path: 'a', operation: 'read', parameters: [] },
        'parameters must be a JSON object (the request body or query)',
      ],
      [{ path: 'a', operation: 'read', sudo: 'yes' }, 'sudo must be true or false'],
    ] as const) {
      const refused = await explain(body);
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual([message]);
    }
  });
});
