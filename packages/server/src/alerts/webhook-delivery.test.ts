import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createMemoryWebhookReplayStore,
  createWebhookVerifier,
  WEBHOOK_SIGNATURE_HEADER,
} from '@custos/core/webhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { openAlertChannels } from './alert-channels.js';
import { alertWebhookSigner, sendWebhook, webhookBody } from './webhook-delivery.js';

// Made at run time: no literal that looks like a credential sits in the repository.
const secret = `canary-signing-secret-${randomBytes(16).toString('hex')}`;
const signer = alertWebhookSigner(secret, 'ops');
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

describe('webhook delivery', () => {
  it("posts a Slack-compatible payload that custos's webhook verifier accepts, without the secret", async () => {
    const { url, got } = await receiver(200);
    const body = webhookBody(alert, 'node-1', new Date());
    expect(await sendWebhook({ url, signer }, body, new Date())).toEqual({ ok: true });
    expect(got).toHaveLength(1);
    const [request] = got;
    const payload = JSON.parse(request?.body ?? '');
    expect(payload.text).toContain('logins');
    expect(payload.custos).toMatchObject({
      rule: 'logins',
      event: 'auth_failure_spike',
      node: 'node-1',
    });
    const header = request?.headers[WEBHOOK_SIGNATURE_HEADER];
    const verifier = createWebhookVerifier({
      secrets: secret,
      replay: createMemoryWebhookReplayStore(),
    });
    const verified = await verifier.verify({ header, body: request?.body ?? '' });
    expect(verified.body.toString()).toBe(body);
    // The same delivery again is a replay; a changed body or another secret does not verify.
    await expect(verifier.verify({ header, body: request?.body ?? '' })).rejects.toMatchObject({
      code: 'ERR_WEBHOOK_REPLAYED',
    });
    await expect(
      createWebhookVerifier({ secrets: secret }).verify({ header, body: `${request?.body} ` }),
    ).rejects.toMatchObject({ code: 'ERR_WEBHOOK_SIGNATURE' });
    await expect(
      createWebhookVerifier({ secrets: `other-${randomBytes(16).toString('hex')}` }).verify({
        header,
        body: request?.body ?? '',
      }),
    ).rejects.toMatchObject({ code: 'ERR_WEBHOOK_SIGNATURE' });
    expect(JSON.stringify(request)).not.toContain(secret);
  });

  it('refuses a weak signing secret when the channel is made, naming the channel only', () => {
    for (const weak of ['q9z', 'change-me-change-me-change-me-change-me', 'ab'.repeat(20)]) {
      let message = '';
      try {
        alertWebhookSigner(weak, 'ops');
      } catch (err) {
        expect(err).toMatchObject({ code: 'ERR_WEAK_SECRET' });
        message = (err as Error).message;
      }
      expect(message).toContain('alerts.channels.ops');
      expect(message).not.toContain(weak);
    }
  });

  it('reports a failing status and a timeout without the secret', async () => {
    const failing = await receiver(500);
    const result = await sendWebhook({ url: failing.url, signer }, '{}', new Date());
    expect(result).toEqual({ ok: false, reason: 'HTTP 500' });
    await new Promise<void>((done) => server?.close(() => done()));
    const slow = await receiver(200, 2000);
    const timedOut = await sendWebhook({ url: slow.url, signer, timeoutMs: 100 }, '{}', new Date());
    expect(timedOut).toEqual({ ok: false, reason: 'timed out' });
    expect(JSON.stringify(timedOut)).not.toContain(secret);
  });

  it('reads a URL kept secret from the environment, and refuses a bad one without quoting it', async () => {
    const { url, got } = await receiver(200);
    const channel = (urlEnv: string) => ({
      channels: {
        ops: {
          type: 'webhook' as const,
          url: { env: urlEnv },
          secret: { env: 'HOOK_SECRET' },
        },
      },
    });
    const env = { HOOK_SECRET: secret, HOOK_URL: url, BAD_URL: `ftp://canary-${secret}` };
    const channels = await openAlertChannels(channel('HOOK_URL'), { env });
    expect(await channels.send('ops', alert, 'node-1', new Date())).toEqual({ ok: true });
    expect(got).toHaveLength(1);
    let message = '';
    await openAlertChannels(channel('BAD_URL'), { env }).catch((err) => {
      expect(err).toMatchObject({ code: 'ERR_INVALID_CONFIG' });
      message = (err as Error).message;
    });
    expect(message).toBe('config: alerts.channels.ops: the url_env must be an http(s) URL');
  });
});
