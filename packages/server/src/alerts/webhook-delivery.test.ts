import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SIGNATURE_HEADER, sendWebhook, webhookBody } from './webhook-delivery.js';

// Made at run time: no literal that looks like a credential sits in the repository.
const secret = `canary-signing-secret-${randomBytes(6).toString('hex')}`;
const alert = {
  rule: 'logins',
  event: 'auth_failure_spike' as const,
  summary: '3 authentication failures within 60s',
  channels: ['ops'],
};
let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

function receiver(status: number, delayMs = 0) {
  const got: { headers: IncomingHttpHeaders; body: string }[] = [];
  const listening = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      setTimeout(() => res.writeHead(status).end(), delayMs);
    });
  });
  server = listening;
  return new Promise<{ url: string; got: typeof got }>((ok) =>
    listening.listen(0, '127.0.0.1', () =>
      ok({ url: `http://127.0.0.1:${(listening.address() as AddressInfo).port}/hook`, got }),
    ),
  );
}

/** What a receiver does: recompute the HMAC of "<t>.<body>" and compare in constant time. */
function verifies(header: string, body: string, key: string): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const expected = createHmac('sha256', key).update(`${match[1]}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(match[2] as string, 'hex'));
}

describe('webhook delivery', () => {
  it('posts a Slack-compatible payload whose signature verifies, without the secret', async () => {
    const { url, got } = await receiver(200);
    const body = webhookBody(alert, 'node-1', new Date());
    expect(await sendWebhook({ url, secret }, body, new Date())).toEqual({ ok: true });
    expect(got).toHaveLength(1);
    const [request] = got;
    const payload = JSON.parse(request?.body ?? '');
    expect(payload.text).toContain('logins');
    expect(payload.custos).toMatchObject({
      rule: 'logins',
      event: 'auth_failure_spike',
      node: 'node-1',
    });
    const header = String(request?.headers[SIGNATURE_HEADER]);
    expect(verifies(header, request?.body ?? '', secret)).toBe(true);
    expect(verifies(header, `${request?.body} `, secret)).toBe(false);
    expect(verifies(header, request?.body ?? '', 'another-secret')).toBe(false);
    expect(JSON.stringify(request)).not.toContain(secret);
  });

  it('reports a failing status and a timeout without the secret', async () => {
    const failing = await receiver(500);
    const result = await sendWebhook({ url: failing.url, secret }, '{}', new Date());
    expect(result).toEqual({ ok: false, reason: 'HTTP 500' });
    await new Promise<void>((done) => server?.close(() => done()));
    const slow = await receiver(200, 2000);
    const timedOut = await sendWebhook({ url: slow.url, secret, timeoutMs: 100 }, '{}', new Date());
    expect(timedOut).toEqual({ ok: false, reason: 'timed out' });
    expect(JSON.stringify(timedOut)).not.toContain(secret);
  });
});
