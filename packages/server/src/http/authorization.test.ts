import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../test-harness.js';

const ALL = ['create', 'read', 'update', 'patch', 'delete', 'list'];

/** A concrete request for a route pattern: wildcards and parameters filled in. */
function concrete(url: string): string {
  return url
    .replace(/^\/v1\//, '')
    .replace('*', 'some/key')
    .replace(':sink', 'file')
    .replace(':name', 'some-name');
}

describe.each(await storageKinds())('authorisation matrix on %s', (kind) => {
  let s: TestServer;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    s = await startTestServer(kind);
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
    await new Promise((resolve) => setTimeout(resolve, 1100)); // let the 1 s token expire
  });
  afterAll(async () => {
    await s.close();
  });

  it('refuses every protected route without the right token and policy', async () => {
    const routes = s.server.app.routeTable.filter((r) => !r.access.unauthenticated);
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
