import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

describe.each(await storageKinds())(
  "lease_duration is the TTL granted, as Vault's (%s)",
  (kind) => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer(kind);
    });
    afterAll(async () => {
      await s.close();
    });

    it('on token create, AppRole login and renewal (not counted down by the time spent answering)', async () => {
      for (let i = 0; i < 5; i++) {
        const created = await s.request('POST', 'auth/token/create', {
          body: { ttl: '1h', policies: ['default'] },
        });
        expect(created.body.auth.lease_duration).toBe(3600);
        const renewed = await s.request('POST', 'auth/token/renew-self', {
          token: created.body.auth.client_token,
          body: { increment: '30m' },
        });
        expect(renewed.body.auth.lease_duration).toBe(1800);
      }
      await s.request('POST', 'auth/approle/role/lease', {
        body: { token_ttl: '20m', token_policies: 'default' },
      });
      const roleId = (await s.request('GET', 'auth/approle/role/lease/role-id')).body.data.role_id;
      for (let i = 0; i < 3; i++) {
        const secretId = (
          await s.request('POST', 'auth/approle/role/lease/secret-id', { body: {} })
        ).body.data.secret_id;
        const login = await send(s.url, 'POST', 'auth/approle/login', {
          token: null,
          body: { role_id: roleId, secret_id: secretId },
        });
        expect(login.body.auth.lease_duration).toBe(1200);
      }
    });
  },
);
