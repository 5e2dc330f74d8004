import { type RecordingServer, recordingServer } from '@custos/test-support/http';
import { afterEach, describe, expect, it } from 'vitest';
import { isCustosError } from '../errors/index.js';
import { createServerClient } from './index.js';

/**
 * When the AppRole client logs in again. A local server plays the part of Vault's token rules
 * (the end-to-end version against the custos server is `packages/server/src/compat/
 * approle-client.test.ts`): logins mint `tok-<n>`, `secret/data/allowed/*` is readable by any
 * valid token and nothing else is, `lookup-self` answers 200 to a valid token and 403 to any
 * other — a policy refusal and a dead token both answer 403, as in Vault.
 */
function tokenServer() {
  const valid = new Set<string>();
  let minted = 0;
  let refuseLookups = false;
  const answer = (status: number, body: unknown = {}) => ({
    status,
    body: JSON.stringify(body),
  });
  const started = recordingServer((request) => {
    const token = request.headers['x-vault-token'];
    if (request.url === '/v1/auth/approle/login') {
      const issued = `tok-${++minted}`;
      valid.add(issued);
      return answer(200, { auth: { client_token: issued } });
    }
    if (typeof token !== 'string' || !valid.has(token)) {
      return answer(403, { errors: ['permission denied'] });
    }
    if (request.url === '/v1/auth/token/lookup-self' && !refuseLookups) {
      return answer(200, { data: { id: token } });
    }
    if (request.url.startsWith('/v1/secret/data/allowed/')) return answer(200, { data: {} });
    return answer(403, { errors: ['permission denied'] });
  });
  return started.then((server) => ({
    server,
    valid,
    /** Requests to `path` so far. */
    count: (path: string) => server.seen.filter((r) => r.url === `/v1/${path}`).length,
    logins: () => minted,
    /** Makes `lookup-self` refused even to valid tokens (a role without the default policy). */
    refuseLookups: () => {
      refuseLookups = true;
    },
  }));
}

const servers: RecordingServer[] = [];
async function started() {
  const fake = await tokenServer();
  servers.push(fake.server);
  const client = createServerClient({
    address: fake.server.url,
    auth: { roleId: 'role', secretId: 'secret-id-0123' },
  });
  return { ...fake, client };
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('the AppRole client logs in again only when its token is no longer valid', () => {
  it('a denied request with a valid token costs no login: it is the answer', async () => {
    const { client, logins, count } = await started();
    expect((await client.call('GET', 'secret/data/allowed/a')).status).toBe(200);
    expect(logins()).toBe(1);
    for (let i = 0; i < 5; i++) {
      expect((await client.call('GET', 'secret/data/denied')).status).toBe(403);
      const error = await client.request('GET', 'secret/data/denied').catch((e: unknown) => e);
      expect(isCustosError(error, 'ERR_PERMISSION_DENIED')).toBe(true);
    }
    expect(logins()).toBe(1);
    // One question per denial, with the token in use.
    expect(count('auth/token/lookup-self')).toBe(10);
    expect((await client.call('GET', 'secret/data/allowed/b')).status).toBe(200);
  });

  it('a refusal right after a login is the answer too, without asking', async () => {
    const { client, logins, count } = await started();
    expect((await client.call('GET', 'secret/data/denied')).status).toBe(403);
    expect(logins()).toBe(1);
    expect(count('auth/token/lookup-self')).toBe(0);
  });

  it('a token the server no longer accepts is replaced by one login, and the call retried', async () => {
    const { client, logins, valid, server } = await started();
    await client.call('GET', 'secret/data/allowed/a');
    valid.clear(); // expired, revoked or out of uses
    expect((await client.call('GET', 'secret/data/allowed/a')).status).toBe(200);
    expect(logins()).toBe(2);
    expect(server.seen.map((r) => `${r.url} ${r.headers['x-vault-token'] ?? '-'}`)).toEqual([
      '/v1/auth/approle/login -',
      '/v1/secret/data/allowed/a tok-1',
      '/v1/secret/data/allowed/a tok-1',
      '/v1/auth/token/lookup-self tok-1',
      '/v1/auth/approle/login -',
      '/v1/secret/data/allowed/a tok-2',
    ]);
    // A denied request on the new, valid token: no further login.
    expect((await client.call('GET', 'secret/data/denied')).status).toBe(403);
    expect(logins()).toBe(2);
  });

  it('never logs in more than once per call, even when lookup-self is refused to valid tokens', async () => {
    const { client, logins, refuseLookups } = await started();
    await client.call('GET', 'secret/data/allowed/a');
    refuseLookups();
    for (let i = 1; i <= 3; i++) {
      expect((await client.call('GET', 'secret/data/denied')).status).toBe(403);
      expect(logins()).toBe(1 + i);
    }
  });

  it('concurrent calls share one login: the first ones, and those that find the same token dead', async () => {
    const { client, logins, valid } = await started();
    const first = await Promise.all(
      Array.from({ length: 10 }, () => client.call('GET', 'secret/data/allowed/a')),
    );
    expect(first.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(logins()).toBe(1);
    valid.clear();
    const after = await Promise.all(
      Array.from({ length: 10 }, () => client.call('GET', 'secret/data/allowed/a')),
    );
    expect(after.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(logins()).toBe(2);
  });

  it('a client with a fixed token never asks lookup-self and never logs in', async () => {
    const { server, valid, count } = await tokenServer();
    servers.push(server);
    valid.add('fixed');
    const client = createServerClient({ address: server.url, auth: { token: 'fixed' } });
    expect((await client.call('GET', 'secret/data/denied')).status).toBe(403);
    expect(count('auth/token/lookup-self')).toBe(0);
    expect(count('auth/approle/login')).toBe(0);
  });
});
