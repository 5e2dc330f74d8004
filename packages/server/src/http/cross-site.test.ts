/**
 * Another site's page cannot change state on the server through the operator's browser (found
 * by an outside probe: a cross-site form POST started a rekey and a root generation, and logged
 * in with AppRole, none of which needs a token). And an answer the router makes before any hook
 * runs (a URL it cannot decode) carries the security headers of every other answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, type TestServer } from '../../test/harness.js';

const REFUSAL = (site: string) => ({
  errors: [
    `cross-site request refused (Sec-Fetch-Site: ${site}): requests from another site's page cannot change state`,
  ],
});

describe('requests from another site', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite');
  });
  afterAll(async () => {
    await s.close();
  });

  const rekeyStarted = async () =>
    ((await send(s.url, 'GET', 'sys/rekey/init')).body as { started: boolean }).started;
  const rootStarted = async () =>
    ((await send(s.url, 'GET', 'sys/generate-root/attempt')).body as { started: boolean }).started;

  it('refuses every method that may change state when a browser says another site sent it', async () => {
    const tries: Array<[string, string, unknown]> = [
      ['POST', 'sys/rekey/init', { secret_shares: 1, secret_threshold: 1 }],
      ['PUT', 'sys/generate-root/attempt', {}],
      ['POST', 'auth/approle/login', { role_id: 'r', secret_id: 's' }],
      ['DELETE', 'sys/rekey/init', undefined],
      ['PATCH', 'secret/data/x', { data: {} }],
    ];
    for (const site of ['cross-site', 'same-site']) {
      for (const [method, path, body] of tries) {
        // As a form sends it: text/plain needs no preflight; the root token does not help.
        const answer = await send(s.url, method, path, {
          token: s.rootToken,
          headers: { 'sec-fetch-site': site, 'content-type': 'text/plain' },
          ...(body === undefined ? {} : { raw: JSON.stringify(body) }),
        });
        expect(answer.status, `${method} ${path} from ${site}`).toBe(403);
        expect(answer.body).toEqual(REFUSAL(site));
        expect(answer.headers.get('content-security-policy')).toContain("default-src 'none'");
      }
    }
    // Anything else than the server's own origin is refused too, never echoed.
    for (const site of ['same-origin, cross-site', '<b>x</b>']) {
      const answer = await send(s.url, 'POST', 'sys/rekey/init', {
        headers: { 'sec-fetch-site': site },
        body: { secret_shares: 1, secret_threshold: 1 },
      });
      expect(answer.status).toBe(403);
      expect(answer.body).toEqual(REFUSAL('not same-origin'));
    }
    expect(await rekeyStarted()).toBe(false);
    expect(await rootStarted()).toBe(false);
  });

  it('refuses a browser’s request from another origin where it sends no Sec-Fetch-Site (plain HTTP)', async () => {
    const host = new URL(s.url).host;
    for (const origin of ['http://evil.example', 'null', `http://${host}.evil.example`]) {
      const answer = await send(s.url, 'POST', 'sys/generate-root/attempt', {
        headers: { origin, 'content-type': 'text/plain' },
        raw: '{}',
      });
      expect(answer.status, origin).toBe(403);
      expect(answer.body).toEqual({
        errors: [
          "cross-site request refused (Origin): requests from another site's page cannot change state",
        ],
      });
    }
    expect(await rootStarted()).toBe(false);
    // The server's own origin, as the dashboard over plain HTTP sends it.
    const own = await send(s.url, 'POST', 'sys/rekey/init', {
      headers: { origin: `http://${host}` },
      body: { secret_shares: 1, secret_threshold: 1 },
    });
    expect(own.status).toBe(200);
    expect((await send(s.url, 'DELETE', 'sys/rekey/init')).status).toBe(204);
  });

  it('serves the same requests from the server’s own pages, typed addresses and other clients', async () => {
    for (const headers of [{ 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'none' }, {}]) {
      const started = await send(s.url, 'POST', 'sys/rekey/init', {
        headers,
        body: { secret_shares: 1, secret_threshold: 1 },
      });
      expect(started.status).toBe(200);
      expect(await rekeyStarted()).toBe(true);
      expect((await send(s.url, 'DELETE', 'sys/rekey/init', { headers })).status).toBe(204);
    }
  });

  it('leaves reads open: another site’s page cannot read their answers', async () => {
    const health = await send(s.url, 'GET', 'sys/health', {
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(health.status).toBe(200);
    expect(health.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends the security headers with an answer to a URL the router cannot decode', async () => {
    for (const path of ['/v1/%', '/ui/%', '/%E0%A4%A']) {
      const answer = await fetch(`${s.url}${path}`);
      expect(answer.status, path).toBe(400);
      expect(await answer.json()).toEqual({ errors: ['malformed URL'] });
      expect(answer.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(answer.headers.get('x-frame-options')).toBe('DENY');
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('cache-control')).toBe('no-store');
    }
  });
});
