import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSecrets, type SecretProvider, vaultKv } from '@custos/core/secrets';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../harness.js';

/** Counts the requests a provider makes. */
function countingFetch() {
  const calls: string[] = [];
  const counted: typeof fetch = (input, init) => {
    calls.push(`${init?.method ?? 'GET'} ${String(input)}`);
    return fetch(input, init);
  };
  return { calls, fetch: counted };
}

describe.each(await storageKinds())(
  'the KV v2 secrets provider against the custos server on %s',
  (kind) => {
    let s: TestServer;
    // The server's clock for token expiry: moved forward instead of waiting for a TTL.
    let nowMs = Date.now();
    beforeAll(async () => {
      s = await startTestServer(kind, { clock: () => nowMs });
      await s.request('POST', 'secret/data/app/production', {
        body: {
          data: { DB_PASSWORD: 'kv-canary-3b9e1f7a2c5d', JWT_SECRET: 'x'.repeat(48), PORT: 8080 },
        },
      });
    });
    afterAll(async () => {
      await s.close();
    });

    it('reads fields of one secret as variables, through the SDK cache and single-flight', async () => {
      const counter = countingFetch();
      const secrets = createSecrets({
        environment: 'development',
        providers: [
          vaultKv({
            address: s.url,
            auth: { token: 'root' },
            path: 'app/production',
            fetch: counter.fetch,
          }),
        ],
      });
      try {
        expect((await secrets.getRequiredSecret('DB_PASSWORD')).reveal()).toBe(
          'kv-canary-3b9e1f7a2c5d',
        );
        expect((await secrets.getRequiredSecret('PORT')).reveal()).toBe('8080');
        await Promise.all(
          Array.from({ length: 1000 }, () => secrets.getRequiredSecret('JWT_SECRET')),
        );
        expect(counter.calls.length).toBeLessThanOrEqual(2);
        expect(await secrets.getOptionalSecret('NOT_THERE')).toBeUndefined();
        await expect(secrets.getRequiredSecret('NOT_THERE')).rejects.toMatchObject({
          code: 'ERR_SECRET_MISSING',
        });
      } finally {
        secrets.close();
      }
    });

    it('treats a refused token as an error, not a miss, and never names the token', async () => {
      const provider = vaultKv({
        address: s.url,
        auth: { token: 'cst.not-a-real-token' },
        path: 'app/production',
      });
      const error = await provider.get('DB_PASSWORD').catch((e: Error) => e);
      expect(error).toMatchObject({
        code: 'ERR_SECRET_PROVIDER',
        message: expect.stringMatching(/permission denied reading secret\/app\/production/),
      });
      expect(String(error)).not.toContain('not-a-real-token');
      const missing = vaultKv({ address: s.url, auth: { token: 'root' }, path: 'no/such/secret' });
      expect(await missing.get('X')).toBeUndefined();
      const down = vaultKv({
        address: 'http://127.0.0.1:1',
        auth: { token: 'root' },
        path: 'x',
        timeoutMs: 500,
      });
      await expect(down.get('X')).rejects.toMatchObject({
        code: 'ERR_SECRET_PROVIDER',
        message: expect.stringMatching(/cannot reach/),
        cause: { code: 'ERR_SERVER_UNREACHABLE' },
      });
    });

    it('logs in with AppRole, and again when its token is revoked', async () => {
      await s.request('POST', 'sys/policies/acl/app-read', {
        body: {
          policy: 'path "secret/data/app/*" {\n  capabilities = ["read"]\n}\n',
        },
      });
      await s.request('POST', 'auth/approle/role/app', { body: { token_policies: ['app-read'] } });
      const roleId = (await s.request('GET', 'auth/approle/role/app/role-id')).body.data.role_id;
      const secretId = (await s.request('POST', 'auth/approle/role/app/secret-id', { body: {} }))
        .body.data.secret_id;
      const counter = countingFetch();
      const provider = vaultKv({
        address: s.url,
        auth: { roleId, secretId },
        path: 'app/production',
        documentTtlMs: 0,
        fetch: counter.fetch,
      });
      expect(await provider.get('DB_PASSWORD')).toBe('kv-canary-3b9e1f7a2c5d');
      const logins = counter.calls.filter((c) => c.includes('/login')).length;
      expect(logins).toBe(1);
      // Tokens that expire after a minute: the provider logs in again when its token is refused.
      await s.request('POST', 'auth/approle/role/app', {
        body: { token_ttl: '60s', token_max_ttl: '60s' },
      });
      const shortLived = vaultKv({
        address: s.url,
        auth: { roleId, secretId },
        path: 'app/production',
        documentTtlMs: 0,
        fetch: counter.fetch,
      });
      expect(await shortLived.get('PORT')).toBe('8080');
      expect(counter.calls.filter((c) => c.includes('/login')).length).toBe(logins + 1);
      nowMs += 61_000;
      expect(await shortLived.get('PORT')).toBe('8080');
      expect(counter.calls.filter((c) => c.includes('/login')).length).toBe(logins + 2);
    });

    it('serves the last good value while the server is sealed (stale-if-error), and says so', async () => {
      const warnings: string[] = [];
      const secrets = createSecrets({
        environment: 'development',
        // Every read asks the server, so the read after the seal meets it.
        cacheTtlSeconds: 0,
        onWarning: (m) => warnings.push(m),
        providers: [
          vaultKv({
            address: s.url,
            auth: { token: 'root' },
            path: 'app/production',
            documentTtlMs: 0,
          }),
        ],
      });
      try {
        expect((await secrets.getRequiredSecret('DB_PASSWORD')).reveal()).toBe(
          'kv-canary-3b9e1f7a2c5d',
        );
        await s.request('POST', 'sys/seal');
        // The server seals once the response is sent: wait for that, not for a fixed time.
        await vi.waitFor(
          async () => expect((await s.request('GET', 'sys/seal-status')).body.sealed).toBe(true),
          { timeout: 10_000 },
        );
        expect((await secrets.getRequiredSecret('DB_PASSWORD')).reveal()).toBe(
          'kv-canary-3b9e1f7a2c5d',
        );
        expect(warnings.join('\n')).toMatch(/last good value of DB_PASSWORD.*sealed/);
        expect(warnings.join('\n')).not.toContain('kv-canary');
      } finally {
        secrets.close();
        await s.request('POST', 'sys/unseal', { body: { key: s.server.unsealKey } });
      }
    });
  },
);

/** A local HTTP server answering every request with `answer`, recording what it received. */
async function fakeServer(
  answer: (url: string) => { status: number; headers?: Record<string, string>; body?: string },
) {
  const seen: { url: string; token: string | undefined }[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', token: req.headers['x-vault-token'] as string | undefined });
    const { status, headers, body } = answer(req.url ?? '');
    res.writeHead(status, headers);
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('the KV v2 provider fails closed', () => {
  it('never follows a redirect, so the token cannot be sent elsewhere', async () => {
    const elsewhere = await fakeServer(() => ({
      status: 200,
      body: '{"data":{"data":{"DB_PASSWORD":"attacker"}}}',
    }));
    const redirecting = await fakeServer(() => ({
      status: 307,
      headers: { location: `${elsewhere.url}/v1/secret/data/app` },
    }));
    try {
      const provider = vaultKv({
        address: redirecting.url,
        auth: { token: 'hvs.REAL-TOKEN' },
        path: 'app',
      });
      await expect(provider.get('DB_PASSWORD')).rejects.toMatchObject({
        code: 'ERR_SECRET_PROVIDER',
        message: expect.stringMatching(/redirect/),
        cause: { code: 'ERR_SERVER_REDIRECT' },
      });
      expect(elsewhere.seen).toEqual([]);
    } finally {
      await redirecting.close();
      await elsewhere.close();
    }
  });

  it('treats a 200 that is not a KV v2 answer as an error, so a chain does not fall through', async () => {
    const portal = await fakeServer(() => ({
      status: 200,
      headers: { 'content-type': 'text/html' },
      body: '<html>login</html>',
    }));
    try {
      const fallback: SecretProvider = {
        name: 'stale-files',
        get: async () => 'old-value-from-fallback',
        list: async () => [],
      };
      const secrets = createSecrets({
        environment: 'development',
        providers: [vaultKv({ address: portal.url, auth: { token: 't' }, path: 'app' }), fallback],
      });
      await expect(secrets.getRequiredSecret('DB_PASSWORD')).rejects.toMatchObject({
        code: 'ERR_SECRET_PROVIDER',
      });
      secrets.close();
    } finally {
      await portal.close();
    }
  });

  it('does not answer for names of object prototype members', async () => {
    const kv = await fakeServer(() => ({ status: 200, body: '{"data":{"data":{"A":"1"}}}' }));
    try {
      const provider = vaultKv({ address: kv.url, auth: { token: 't' }, path: 'app' });
      expect(await provider.get('constructor')).toBeUndefined();
      expect(await provider.get('toString')).toBeUndefined();
      expect(await provider.get('A')).toBe('1');
    } finally {
      await kv.close();
    }
  });

  it('refuses plain http to anything but loopback unless told otherwise', () => {
    expect(() =>
      vaultKv({ address: 'http://vault.internal:8200', auth: { token: 't' }, path: 'app' }),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_SECRET_PROVIDER',
        message: expect.stringMatching(/^refusing plain http to http:\/\/vault\.internal:8200/),
        cause: expect.objectContaining({ code: 'ERR_INSECURE_TRANSPORT' }),
      }),
    );
    expect(() =>
      vaultKv({
        address: 'http://vault.internal:8200',
        auth: { token: 't' },
        path: 'app',
        allowInsecureHttp: true,
      }),
    ).not.toThrow();
    expect(() =>
      vaultKv({ address: 'https://vault.internal:8200', auth: { token: 't' }, path: 'app' }),
    ).not.toThrow();
  });
});
