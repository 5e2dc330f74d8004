import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { concretePath, vaultRoutes } from '../../test/routes.js';
import { createPolicyStore } from '../policy/policy-store.js';

/** The three spellings of a list request. */
const LIST_SPELLINGS = [
  { method: 'GET', query: '?list=true' },
  { method: 'GET', query: '?list=1' },
  { method: 'LIST', query: '' },
];

describe.each(await storageKinds())('list requests on %s', (kind) => {
  let s: TestServer;
  let listOnly: string;

  beforeAll(async () => {
    s = await startTestServer(kind);
    // Something to read behind every kind of route the walk reaches with its concrete paths.
    await s.request('POST', 'secret/data/some/key', { body: { data: { password: 'CANARY-1' } } });
    await s.request('POST', 'sys/policies/acl/some-name', {
      body: { policy: 'path "x/*" { capabilities = ["read"] }' },
    });
    await s.request('POST', 'transit/keys/some-name', {
      body: { exportable: true, allow_plaintext_backup: true },
    });
    await s.request('POST', 'auth/approle/role/some-name', { body: { token_policies: ['x'] } });
    await s.policy('list-everything', { '*': ['list'] });
    listOnly = await s.token({ policies: ['list-everything'], no_default_policy: true });
  });
  afterAll(async () => {
    await s.close();
  });

  it('a list grant reads nothing: every GET route that does not list answers 405 to a list request', async () => {
    const routes = vaultRoutes(s.server.app.routeTable).filter((r) => r.method === 'GET');
    const wrong: string[] = [];
    let refused = 0;
    for (const route of routes) {
      const path = concretePath(route.url);
      for (const { method, query } of LIST_SPELLINGS) {
        for (const token of [listOnly, s.rootToken]) {
          const response = await send(s.url, method, `${path}${query}`, { token });
          const what = `${method} ${path}${query} (${token === listOnly ? 'list-only' : 'root'}): ${response.status} ${response.text.slice(0, 60)}`;
          if (response.text.includes('CANARY-1')) wrong.push(`${what}: served the secret`);
          if (route.access.list === true) {
            if (response.status === 405) wrong.push(`${what}: a list route refused to list`);
          } else if (response.status !== 405) {
            wrong.push(`${what}: want 405`);
          } else {
            expect(response.body).toEqual({ errors: ['unsupported operation'] });
            refused++;
          }
        }
      }
    }
    expect(wrong).toEqual([]);
    // The walk reached the routes the review read through (KV data, policies, transit export).
    expect(refused).toBeGreaterThan(30);
  });

  it('the reviewer’s reads: a list-only token gets nothing from KV data, transit export or policies', async () => {
    for (const path of [
      'secret/data/some/key',
      'transit/export/encryption-key/some-name',
      'transit/backup/some-name',
      'sys/policies/acl/some-name',
      'auth/approle/role/some-name/role-id',
    ]) {
      expect((await send(s.url, 'GET', path, { token: listOnly })).status, path).toBe(403);
      expect((await send(s.url, 'GET', `${path}?list=true`, { token: listOnly })).status).toBe(405);
      expect((await send(s.url, 'LIST', path, { token: listOnly })).status, path).toBe(405);
    }
    // Listing still works where it is a list.
    const keys = await send(s.url, 'LIST', 'secret/metadata/some', { token: listOnly });
    expect(keys.body.data.keys).toEqual(['key']);
  });

  it('asks storage whether a write target exists only for an authenticated caller', async () => {
    const ctx = s.server.context;
    const spies = [
      vi.spyOn(ctx.policies, 'get'),
      vi.spyOn(ctx.approles, 'getRole'),
      vi.spyOn(ctx.transit, 'exists'),
      vi.spyOn(ctx.kv, 'readMetadata'),
    ];
    try {
      for (const path of [
        'sys/policies/acl/anon-probe',
        'sys/policy/anon-probe',
        'auth/approle/role/anon-probe',
        'transit/keys/anon-probe',
        'transit/encrypt/anon-probe',
        'secret/data/anon-probe',
        'secret/metadata/anon-probe',
      ]) {
        for (const token of [null, 'cst.NotAToken0000000000000000000000']) {
          const response = await send(s.url, 'POST', path, { token, body: {} });
          expect(response.status, path).toBe(403);
        }
      }
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});

describe('policy cache', () => {
  it('keeps at most cacheLimit names, misses included', async () => {
    const s = await startTestServer('sqlite');
    try {
      const barrier = s.server.context.barrier;
      let reads = 0;
      const counting = {
        ...barrier,
        read: <T>(path: string) => {
          reads++;
          return barrier.read<T>(path);
        },
      };
      const policies = createPolicyStore(counting, { cacheLimit: 3 });
      for (const name of ['a', 'b', 'c']) await policies.get(name);
      expect(reads).toBe(3);
      for (const name of ['a', 'b', 'c']) await policies.get(name);
      expect(reads).toBe(3); // all three cached (as misses)
      await policies.get('d'); // evicts the oldest, a
      await policies.get('a');
      expect(reads).toBe(5);
    } finally {
      await s.close();
    }
  });
});
