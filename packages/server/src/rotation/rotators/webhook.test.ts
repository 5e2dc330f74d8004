import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWebhookVerifier } from '@custos/core/webhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../../test/harness.js';

/** A rotation endpoint as a user would write one: verifies each delivery, answers by plan. */
function endpoint(signing: string) {
  const verifier = createWebhookVerifier({ secrets: signing });
  const received: { step: string; id: string; pending?: { value: string } }[] = [];
  let answer: (step: string, attempt: number) => number = () => 200;
  const attempts = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      verifier
        .verify({ header: request.headers['custos-webhook-signature'], body })
        .then((delivery) => {
          const parsed = JSON.parse(body.toString('utf8'));
          received.push({ step: parsed.step, id: delivery.id, pending: parsed.pending });
          const n = (attempts.get(delivery.id) ?? 0) + 1;
          attempts.set(delivery.id, n);
          response.statusCode = answer(parsed.step, n);
          response.end('the endpoint says no');
        })
        .catch(() => {
          response.statusCode = 401;
          response.end();
        });
    });
  });
  return {
    server,
    received,
    answerWith(f: (step: string, attempt: number) => number) {
      answer = f;
    },
  };
}

describe.each(await storageKinds())('the webhook rotator, custos on %s', (kind) => {
  let s: TestServer;
  const signing = randomBytes(32).toString('base64url');
  const hook = endpoint(signing);
  let url: string;
  beforeAll(async () => {
    s = await startTestServer(kind);
    await new Promise<void>((resolve) => hook.server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(hook.server.address() as AddressInfo).port}/rotate`;
    await s.request('POST', 'secret/data/hooks/signing', { body: { data: { value: signing } } });
  });
  afterAll(async () => {
    await new Promise((r) => hook.server.close(r));
    await s.close();
  });

  const prepare = async (key: string) => {
    await s.request('POST', `secret/data/${key}`, {
      body: { data: { value: randomBytes(8).toString('hex') } },
    });
    const policy = await s.request('POST', `sys/rotation/secret/${key}`, {
      body: {
        rotator: 'webhook',
        schedule: '90d',
        settings: { url, signing_path: 'hooks/signing', retries: 2, timeout_seconds: 2 },
      },
    });
    expect(policy.status).toBe(204);
  };

  it('sends set, test and retire signed, with the pending value; retries a 5xx with the same delivery id', async () => {
    await prepare('hooks/a');
    hook.received.length = 0;
    hook.answerWith((step, attempt) => (step === 'set' && attempt === 1 ? 503 : 200));
    const r = await s.request('POST', 'sys/rotate-secret/secret/hooks/a', {
      body: { force: true },
    });
    expect(r.body.data.result).toBe('succeeded');
    // Grace period 0 (the default): the old value is retired at once.
    expect(hook.received.map((x) => x.step)).toEqual(['set', 'set', 'test', 'retire']);
    expect(hook.received[0]?.id).toBe(hook.received[1]?.id);
    const now = (await s.request('GET', 'secret/data/hooks/a')).body.data.data.value;
    expect(hook.received[2]?.pending?.value).toBe(now);
  });

  it('a refused test rolls back (the endpoint is told) and the answer quotes nothing the endpoint said', async () => {
    await prepare('hooks/b');
    const before = (await s.request('GET', 'secret/data/hooks/b')).body.data.data.value;
    hook.received.length = 0;
    hook.answerWith((step) => (step === 'test' ? 400 : 200));
    const r = await s.request('POST', 'sys/rotate-secret/secret/hooks/b', {
      body: { force: true },
    });
    expect(r.body.data.result).toBe('rolled_back');
    expect(r.body.data.error).toMatch(/failed the test step \(HTTP 400\)/);
    expect(r.text).not.toContain('the endpoint says no');
    expect(hook.received.map((x) => x.step)).toEqual(['set', 'test', 'rollback']);
    expect((await s.request('GET', 'secret/data/hooks/b')).body.data.data.value).toBe(before);
  });

  it('refuses plain http beyond loopback and a missing signing secret', async () => {
    for (const settings of [
      { url: 'http://example.com/rotate', signing_path: 'hooks/signing' },
      // Credentials in the URL (made here, so no source line holds a URL with a password).
      {
        url: `https://u:${randomBytes(4).toString('hex')}@example.com/rotate`,
        signing_path: 'hooks/signing',
      },
      { url },
    ]) {
      const r = await s.request('POST', 'sys/rotation/secret/hooks/bad', {
        body: { rotator: 'webhook', schedule: '90d', settings },
      });
      expect(r.status, JSON.stringify(settings)).toBe(400);
    }
  });
});
