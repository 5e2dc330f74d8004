import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

/**
 * Review of the SQLite group commit (and PostgreSQL for comparison): requests that race in one
 * group. A child token created while its parent is revoked never outlives the revocation; a
 * policy deleted while a token of it writes refuses every write after the delete returned.
 */
describe.each(await storageKinds())('races of concurrent requests on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
    expect((await s.policy('creator', { 'auth/token/create': ['update'] })).status).toBe(204);
  });
  afterAll(() => s.close());

  it('a child token created as its parent is revoked is revoked with it', async () => {
    for (let round = 0; round < 15; round++) {
      const parent = await s.token({ policies: ['creator'] });
      const [child, revoked] = await Promise.all([
        s.request('POST', 'auth/token/create', { token: parent, body: { policies: ['default'] } }),
        s.request('POST', 'auth/token/revoke', { body: { token: parent } }),
      ]);
      expect(revoked.status).toBe(204);
      expect((await s.request('GET', 'auth/token/lookup-self', { token: parent })).status).toBe(
        403,
      );
      if (child.status === 200) {
        const token = child.body.auth.client_token as string;
        expect((await s.request('GET', 'auth/token/lookup-self', { token })).status).toBe(403);
      } else {
        expect(child.status).toBe(403);
      }
    }
  });

  it('a policy deleted while its token writes: no write is allowed after the delete returned', async () => {
    for (let round = 0; round < 10; round++) {
      const name = `writer-${round}`;
      expect((await s.policy(name, { 'secret/data/race/*': ['create', 'update'] })).status).toBe(
        204,
      );
      const token = await s.token({ policies: [name] });
      const writes = Array.from({ length: 8 }, (_, i) =>
        s.request('POST', `secret/data/race/p${round}`, { token, body: { data: { i } } }),
      );
      const deleted = s.request('DELETE', `sys/policies/acl/${name}`);
      expect((await deleted).status).toBe(204);
      const after = await s.request('POST', `secret/data/race/p${round}`, {
        token,
        body: { data: { after: true } },
      });
      expect(after.status).toBe(403);
      for (const w of await Promise.all(writes)) expect([200, 403]).toContain(w.status);
      const meta = await s.request('GET', `secret/metadata/race/p${round}`);
      const allowed = (await Promise.all(writes)).filter((w) => w.status === 200).length;
      if (allowed === 0) expect(meta.status).toBe(404);
      else expect(meta.body.data.current_version).toBe(allowed);
    }
  });
});
