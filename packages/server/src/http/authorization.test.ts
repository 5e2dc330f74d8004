import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { capabilityProbes, concretePath as concrete, vaultRoutes } from '../../test/routes.js';

const ALL = ['create', 'read', 'update', 'patch', 'delete', 'list'];

describe.each(await storageKinds())('authorisation matrix on %s', (kind) => {
  let s: TestServer;
  const tokens: Record<string, string> = {};
  // The server's clock: moved forward to expire a token instead of waiting for it.
  let nowMs = Date.now();

  beforeAll(async () => {
    s = await startTestServer(kind, { clock: () => nowMs });
    const policy = s.policy;
    await policy('unrelated', { 'nothing/here/*': ['read'] });
    await policy('everything', { '*': [...ALL] });
    await policy('deny-everything', { '*': ['deny'] });
    const create = s.token;
    tokens.unknown = 'cst.ThisTokenWasNeverIssuedByTheServer00';
    tokens.expired = await create({ policies: ['everything'], ttl: '1s' });
    tokens.revoked = await create({ policies: ['everything'] });
    await s.request('POST', 'auth/token/revoke', { body: { token: tokens.revoked } });
    tokens.lacking = await create({ policies: ['unrelated'], no_default_policy: true });
    tokens.denied = await create({
      policies: ['everything', 'deny-everything'],
      no_default_policy: true,
    });
    tokens.noSudo = await create({ policies: ['everything'] });
    nowMs += 1100; // the 1 s token has expired
  });
  afterAll(async () => {
    await s.close();
  });

  // Walks every route, a policy and a token each: time only bounds a machine under load.
  it('refuses every protected route without the right token and policy', {
    timeout: 90_000,
  }, async () => {
    const routes = vaultRoutes(s.server.app.routeTable).filter((r) => !r.access.unauthenticated);
    expect(routes.length).toBeGreaterThan(60);
    const cases: [string, string | null][] = [
      ['no token', null],
      ['unknown token', tokens.unknown as string],
      ['expired token', tokens.expired as string],
      ['revoked token', tokens.revoked as string],
      ['policy lacks the capability', tokens.lacking as string],
      ['explicit deny', tokens.denied as string],
    ];
    const failures: string[] = [];
    for (const route of routes) {
      const path = concrete(route.url);
      for (const [label, token] of cases) {
        const hasBody = !['GET', 'HEAD', 'DELETE'].includes(route.method);
        const response = await send(s.url, route.method, path, {
          token,
          ...(hasBody ? { body: {} } : {}),
        });
        if (
          response.status !== 403 ||
          (route.method !== 'HEAD' &&
            JSON.stringify(response.body) !== '{"errors":["permission denied"]}')
        ) {
          failures.push(
            `${route.method} ${route.url} with ${label}: ${response.status} ${response.text.slice(0, 80)}`,
          );
        }
      }
    }
    expect(failures).toEqual([]);
  });

  // Walks every route, a policy and a token each: time only bounds a machine under load.
  it('refuses each request to a token granted every capability on its path but the one it needs', {
    timeout: 90_000,
  }, async () => {
    const probes = capabilityProbes(vaultRoutes(s.server.app.routeTable));
    // Every route that lists: KV metadata (root and keys), policies (two forms), transit keys,
    // AppRole roles and secret IDs, token roles and accessors, rotation policies, and the mount
    // catch-alls (KV version 1 and cubbyhole/; under auth/).
    expect(probes.filter((p) => p.method === 'LIST').length).toBe(12);
    const failures: string[] = [];
    for (const [i, probe] of probes.entries()) {
      const others = [...ALL, 'sudo'].filter((c) => c !== probe.needs);
      const name = `all-but-${probe.needs}-${i}`;
      expect((await s.policy(name, { [probe.aclPath]: others })).status).toBe(204);
      const token = await s.token({ policies: [name], no_default_policy: true });
      const response = await send(s.url, probe.method, probe.path, {
        token,
        ...(probe.hasBody ? { body: {} } : {}),
      });
      if (response.status !== 403)
        failures.push(`${probe.method} ${probe.path} without ${probe.needs}: ${response.status}`);
    }
    expect(failures).toEqual([]);
  });

  // Walks every route, a policy and a token each: time only bounds a machine under load.
  it('admits reads and lists to a token granted only the capability they need (the probes are not refused for another reason)', {
    timeout: 90_000,
  }, async () => {
    const reads = capabilityProbes(vaultRoutes(s.server.app.routeTable)).filter(
      // GET and LIST have no side effects; the UI mount lookup also checks access to the mount,
      // and the compliance report makes each of its reads with the caller's token, judged on
      // their own paths (compliance-paths.test.ts tests the rights it needs).
      (p) =>
        (p.method === 'GET' || p.method === 'LIST') &&
        !p.path.startsWith('sys/internal/') &&
        p.path !== 'sys/compliance/report',
    );
    const refused: string[] = [];
    for (const [i, probe] of reads.entries()) {
      const name = `only-${probe.needs}-${i}`;
      await s.policy(name, { [probe.aclPath]: [probe.needs, 'sudo'] });
      const token = await s.token({ policies: [name], no_default_policy: true });
      const response = await send(s.url, probe.method, probe.path, { token });
      if (response.status === 403) refused.push(`${probe.method} ${probe.path}`);
    }
    expect(refused).toEqual([]);
  });

  it('refuses sudo-protected routes to a token that has every capability but sudo', async () => {
    const sudoRoutes = s.server.app.routeTable.filter((r) => r.access.sudo);
    expect(sudoRoutes.map((r) => r.url)).toEqual(
      expect.arrayContaining(['/v1/sys/seal', '/v1/sys/rotate', '/v1/sys/audit-hash/:sink']),
    );
    for (const route of sudoRoutes) {
      const response = await send(s.url, route.method, concrete(route.url), {
        token: tokens.noSudo as string,
        ...(route.method === 'GET' || route.method === 'HEAD' ? {} : { body: {} }),
      });
      expect(response.status, `${route.method} ${route.url}`).toBe(403);
    }
  });

  it('the same token with the capability is admitted (the matrix is not refusing everything)', async () => {
    expect(
      (
        await send(s.url, 'POST', 'secret/data/some/key', {
          token: tokens.noSudo as string,
          body: { data: { a: 1 } },
        })
      ).status,
    ).toBe(200);
    expect(
      (await send(s.url, 'GET', 'secret/data/some/key', { token: tokens.noSudo as string })).status,
    ).toBe(200);
    expect(
      (await send(s.url, 'GET', 'auth/token/lookup-self', { token: tokens.lacking as string }))
        .status,
    ).toBe(403);
  });
});
