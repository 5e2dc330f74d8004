import { createServerClient } from '@custos/core/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../harness.js';

/**
 * The library's AppRole client against the custos server: it logs in again only when its token
 * is no longer valid. A denied request used to count as an expired token, so a role with
 * `secret_id_num_uses: 3` was spent after two denied requests, each re-login minting a token
 * nobody revoked.
 */

/** A `fetch` that records each request's path, token and answer status. */
function recordingFetch() {
  const sent: { path: string; token: string | undefined; status: number }[] = [];
  const recorded: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const headers = (init?.headers ?? {}) as Record<string, string>;
    sent.push({
      path: new URL(String(input)).pathname.replace(/^\/v1\//, ''),
      token: headers['x-vault-token'],
      status: response.status,
    });
    return response;
  };
  return {
    fetch: recorded,
    logins: () => sent.filter((r) => r.path === 'auth/approle/login'),
    /** Every token the client sent: each one a login minted for it. */
    tokens: () => [...new Set(sent.map((r) => r.token).filter((t) => t !== undefined))],
  };
}

describe.each(await storageKinds())(
  'the AppRole client against the custos server on %s',
  (kind) => {
    let s: TestServer;
    // The server's clock for token expiry: moved forward instead of waiting for a TTL.
    let nowMs = Date.now();
    beforeAll(async () => {
      s = await startTestServer(kind, { clock: () => nowMs });
      await s.policy('app-read', { 'secret/data/app/*': ['read'] });
      await s.request('POST', 'secret/data/app/db', { body: { data: { password: 'x' } } });
    });
    afterAll(async () => {
      await s.close();
    });

    /** A role and one secret ID that allows `uses` logins. */
    async function role(name: string, settings: Record<string, unknown>) {
      await s.request('POST', `auth/approle/role/${name}`, {
        body: { token_policies: ['app-read'], ...settings },
      });
      const roleId = (await s.request('GET', `auth/approle/role/${name}/role-id`)).body.data
        .role_id;
      const secretId = (
        await s.request('POST', `auth/approle/role/${name}/secret-id`, { body: {} })
      ).body.data.secret_id;
      const login = () =>
        s.request('POST', 'auth/approle/login', {
          token: null,
          body: { role_id: roleId, secret_id: secretId },
        });
      return { roleId, secretId, login };
    }

    /** Whether the server still accepts `token` (asked as root). */
    const accepted = async (token: string) =>
      (await s.request('POST', 'auth/token/lookup', { body: { token } })).status === 200;

    it('denied requests spend no secret-ID use and mint no token', async () => {
      const { roleId, secretId, login } = await role('limited', { secret_id_num_uses: 3 });
      const recorder = recordingFetch();
      const client = createServerClient({
        address: s.url,
        auth: { roleId, secretId },
        fetch: recorder.fetch,
      });
      expect((await client.call('GET', 'secret/data/app/db')).status).toBe(200);
      for (let i = 0; i < 5; i++) {
        expect((await client.call('GET', 'secret/data/other/db')).status).toBe(403);
        await expect(client.request('DELETE', 'secret/data/app/db')).rejects.toMatchObject({
          code: 'ERR_PERMISSION_DENIED',
        });
      }
      expect((await client.call('GET', 'secret/data/app/db')).status).toBe(200);
      // One login, one token, still valid and still in use.
      expect(recorder.logins()).toHaveLength(1);
      expect(recorder.tokens()).toHaveLength(1);
      expect(await accepted(recorder.tokens()[0] as string)).toBe(true);
      // The secret ID was used once: two of its three logins are left, and no more.
      expect((await login()).status).toBe(200);
      expect((await login()).status).toBe(200);
      expect((await login()).status).not.toBe(200);
    });

    it('an expired or revoked token is replaced by one login, shared by concurrent calls', async () => {
      const { roleId, secretId, login } = await role('short', {
        secret_id_num_uses: 3,
        token_ttl: '60s',
        token_max_ttl: '60s',
      });
      const recorder = recordingFetch();
      const client = createServerClient({
        address: s.url,
        auth: { roleId, secretId },
        fetch: recorder.fetch,
      });
      expect((await client.call('GET', 'secret/data/app/db')).status).toBe(200);
      nowMs += 61_000;
      const afterExpiry = await Promise.all(
        Array.from({ length: 5 }, () => client.call('GET', 'secret/data/app/db')),
      );
      expect(afterExpiry.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(recorder.logins()).toHaveLength(2);
      // Revoked by someone else: the next call logs in once more.
      const [expired, current] = recorder.tokens() as [string, string];
      await s.request('POST', 'auth/token/revoke', { body: { token: current } });
      expect((await client.call('GET', 'secret/data/app/db')).status).toBe(200);
      expect(recorder.logins()).toHaveLength(3);
      // Every replaced token was one the server no longer accepted: nothing valid left behind.
      const tokens = recorder.tokens();
      expect(tokens).toHaveLength(3);
      expect(await accepted(expired)).toBe(false);
      expect(await accepted(current)).toBe(false);
      expect(await accepted(tokens[2] as string)).toBe(true);
      // Three logins, three uses: the secret ID is spent.
      expect((await login()).status).not.toBe(200);
    });
  },
);
