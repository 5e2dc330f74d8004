import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-harness.js';

describe('docs/server-api.md', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite');
  });
  afterAll(async () => {
    await s.close();
  });

  it('lists every route the server has, and no route it does not have', async () => {
    const doc = await readFile(new URL('../../../../docs/server-api.md', import.meta.url), 'utf8');
    const documented = new Set(
      [...doc.matchAll(/^\| `(GET|POST|PATCH|DELETE) (\/v1\/[^`]+)`/gm)].map(
        (m) => `${m[1]} ${m[2]}`,
      ),
    );
    // PUT is documented as POST, HEAD as GET.
    const canonical = (method: string) =>
      method === 'PUT' ? 'POST' : method === 'HEAD' ? 'GET' : method;
    const routes = new Set(s.server.app.routeTable.map((r) => `${canonical(r.method)} ${r.url}`));
    expect([...routes].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !routes.has(r))).toEqual([]);
  });
});
