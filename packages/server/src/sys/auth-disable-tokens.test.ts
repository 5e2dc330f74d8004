import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

describe.each(await storageKinds())(
  'disabling an AppRole mount revokes its tokens on %s',
  (kind) => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer(kind);
    });
    afterAll(async () => {
      await s.close();
    });

    /** Enables AppRole at `mount` with role `deploy`; returns fresh credentials for `count` logins. */
    const setUp = async (mount: string, count: number, tokenType = 'default') => {
      expect(
        (await s.request('POST', `sys/auth/${mount}`, { body: { type: 'approle' } })).status,
      ).toBe(204);
      await s.request('POST', `auth/${mount}/role/deploy`, {
        body: { token_policies: ['default'], secret_id_num_uses: 0, token_type: tokenType },
      });
      const roleId = (await s.request('GET', `auth/${mount}/role/deploy/role-id`)).body.data
        .role_id as string;
      const secretIds: string[] = [];
      for (let i = 0; i < count; i++)
        secretIds.push(
          (await s.request('POST', `auth/${mount}/role/deploy/secret-id`)).body.data
            .secret_id as string,
        );
      return { roleId, secretIds };
    };
    const login = (mount: string, roleId: string, secretId: string) =>
      send(s.url, 'POST', `auth/${mount}/login`, {
        token: null,
        body: { role_id: roleId, secret_id: secretId },
      });
    const isLive = async (token: string) =>
      (await send(s.url, 'GET', 'auth/token/lookup-self', { token })).status === 200;

    it('revokes every token the mount issued, and no other', async () => {
      const { roleId, secretIds } = await setUp('ci', 3);
      const other = await setUp('other', 1);
      const issued: string[] = [];
      for (const secretId of secretIds) {
        const response = await login('ci', roleId, secretId);
        expect(response.status).toBe(200);
        issued.push(response.body.auth.client_token);
      }
      const kept = (await login('other', other.roleId, other.secretIds[0] as string)).body.auth
        .client_token as string;
      const byToken = await s.token({ policies: ['default'] });
      for (const token of issued) expect(await isLive(token)).toBe(true);

      expect((await s.request('DELETE', 'sys/auth/ci')).status).toBe(204);
      for (const token of issued) expect(await isLive(token)).toBe(false);
      expect(await isLive(kept)).toBe(true);
      expect(await isLive(byToken)).toBe(true);
      // Enabled again at the same path, it is a new method: nothing of the old one comes back.
      await setUp('ci', 0);
      for (const token of issued) expect(await isLive(token)).toBe(false);
    });

    it('keeps the tokens of a moved mount (sys/remount), and revokes them when it is disabled', async () => {
      const { roleId, secretIds } = await setUp('moving', 1);
      const token = (await login('moving', roleId, secretIds[0] as string)).body.auth
        .client_token as string;
      expect(
        (
          await s.request('POST', 'sys/remount', {
            body: { from: 'auth/moving', to: 'auth/moved' },
          })
        ).status,
      ).toBeLessThan(300);
      expect(await isLive(token)).toBe(true);
      expect((await s.request('DELETE', 'sys/auth/moved')).status).toBe(204);
      expect(await isLive(token)).toBe(false);
    });

    it('leaves no live token from logins in flight while the mount is disabled', async () => {
      for (let round = 0; round < 5; round++) {
        const mount = `race${round}`;
        const { roleId, secretIds } = await setUp(mount, 8);
        const logins = secretIds.map((secretId) => login(mount, roleId, secretId));
        const disable = s.request('DELETE', `sys/auth/${mount}`);
        const [disabled, ...answers] = await Promise.all([disable, ...logins]);
        expect(disabled.status).toBe(204);
        for (const answer of answers) {
          // A login either lost (refused: the method is gone) or got a token the disable revoked.
          if (answer.status !== 200) {
            expect(answer.status).toBeGreaterThanOrEqual(400);
            continue;
          }
          expect(await isLive(answer.body.auth.client_token)).toBe(false);
        }
      }
    });

    it('batch tokens (nothing stored to revoke) die with their mount, even re-enabled at its path', async () => {
      const { roleId, secretIds } = await setUp('batchci', 2, 'batch');
      const kept = await setUp('batchother', 1, 'batch');
      const issued: string[] = [];
      for (const secretId of secretIds) {
        const answer = await login('batchci', roleId, secretId);
        expect(answer.body.auth.token_type).toBe('batch');
        issued.push(answer.body.auth.client_token);
      }
      const other = (await login('batchother', kept.roleId, kept.secretIds[0] as string)).body.auth
        .client_token as string;
      for (const token of [...issued, other]) expect(await isLive(token)).toBe(true);
      // Moved, the method is the same one: its batch tokens live on.
      expect(
        (
          await s.request('POST', 'sys/remount', {
            body: { from: 'auth/batchci', to: 'auth/batchmoved' },
          })
        ).status,
      ).toBeLessThan(300);
      for (const token of issued) expect(await isLive(token)).toBe(true);
      expect((await s.request('DELETE', 'sys/auth/batchmoved')).status).toBe(204);
      for (const token of issued) {
        expect(await isLive(token)).toBe(false);
        // Refused on every route, not only lookup-self.
        const read = await send(s.url, 'GET', 'secret/data/anything', { token });
        expect(read.status).toBe(403);
      }
      expect(await isLive(other)).toBe(true);
      // A new method at the old paths is another mount: the old tokens stay dead.
      await setUp('batchmoved', 0, 'batch');
      await setUp('batchci', 0, 'batch');
      for (const token of issued) expect(await isLive(token)).toBe(false);
    });

    it('leaves no live batch token from logins in flight while the mount is disabled', async () => {
      for (let round = 0; round < 3; round++) {
        const mount = `batchrace${round}`;
        const { roleId, secretIds } = await setUp(mount, 6, 'batch');
        const logins = secretIds.map((secretId) => login(mount, roleId, secretId));
        const [disabled, ...answers] = await Promise.all([
          s.request('DELETE', `sys/auth/${mount}`),
          ...logins,
        ]);
        expect(disabled.status).toBe(204);
        for (const answer of answers) {
          if (answer.status !== 200) continue;
          expect(await isLive(answer.body.auth.client_token)).toBe(false);
        }
      }
    });
  },
);
