import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createMemoryWebhookReplayStore,
  createWebhookSigner,
  createWebhookVerifier,
  fastifyWebhooks,
  type VerifiedWebhook,
  verifiedWebhook,
  type WebhookRejected,
  webhookMiddleware,
} from './index.js';

const canary = `CANARY${randomBytes(24).toString('hex')}`;
const signer = createWebhookSigner({ secrets: canary });
const body = JSON.stringify({ type: 'invoice.paid', note: 'ünïcödé bytes', amount: 4200 });

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

async function listenExpress(app: express.Express): Promise<string> {
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function listenFastify(app: ReturnType<typeof Fastify>): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close());
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

function post(url: string, payload: string | Buffer, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    body: payload,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** The scenarios every receiver must pass, over HTTP. */
async function scenarios(
  base: string,
  received: VerifiedWebhook[],
  rejected: WebhookRejected[],
): Promise<void> {
  const signed = signer.sign({ body, id: 'evt_1' });
  const ok = await post(`${base}/webhooks`, body, signed.headers);
  expect(ok.status).toBe(200);
  expect(await ok.json()).toEqual({ id: 'evt_1', type: 'invoice.paid' });
  expect(received.at(-1)?.body.toString('utf8')).toBe(body);

  // Replayed, tampered, unsigned, stale: 401 with nothing said about why.
  const stale = signer.sign({ body, id: 'evt_2', now: new Date(Date.now() - 3600_000) });
  const refusals = [
    post(`${base}/webhooks`, body, signed.headers),
    post(`${base}/webhooks`, body.replace('4200', '4201'), signer.sign({ body }).headers),
    post(`${base}/webhooks`, body),
    post(`${base}/webhooks`, body, { 'custos-webhook-signature': 'garbage' }),
    post(`${base}/webhooks`, body, stale.headers),
  ];
  const before = rejected.length;
  for (const pending of refusals) {
    const response = await pending;
    expect(response.status).toBe(401);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: 'webhook rejected' });
    expect(text).not.toContain(canary);
  }
  expect(
    rejected
      .slice(before)
      .map((e) => e.code)
      .sort(),
  ).toEqual(
    [
      'ERR_WEBHOOK_REPLAYED',
      'ERR_WEBHOOK_SIGNATURE',
      'ERR_WEBHOOK_MALFORMED',
      'ERR_WEBHOOK_MALFORMED',
      'ERR_WEBHOOK_TIMESTAMP',
    ].sort(),
  );
  for (const error of rejected) expect(`${error.message}${error.stack}`).not.toContain(canary);

  // Any content type, or none, is verified on its raw bytes.
  const binary = randomBytes(300);
  const signedBinary = signer.sign({ body: binary });
  const bin = await post(`${base}/webhooks/raw`, binary, {
    ...signedBinary.headers,
    'content-type': 'application/octet-stream',
  });
  expect(bin.status).toBe(200);
  expect(Buffer.from(await bin.arrayBuffer()).equals(binary)).toBe(true);

  // Routes outside the webhook scope are untouched.
  const other = await post(`${base}/other`, '{"a":1}');
  expect(await other.json()).toEqual({ parsed: { a: 1 } });
}

describe('Express', () => {
  it('verifies the raw body, answers 401 without detail, leaves other routes alone', async () => {
    const received: VerifiedWebhook[] = [];
    const rejected: WebhookRejected[] = [];
    const verify = webhookMiddleware(
      createWebhookVerifier({ secrets: canary, replay: createMemoryWebhookReplayStore() }),
      { onRejected: (e) => rejected.push(e) },
    );
    const app = express();
    app.post('/webhooks', verify, (req, res) => {
      const webhook = verifiedWebhook(req);
      received.push(webhook);
      expect(req.body).toBe(webhook.body);
      const event = JSON.parse(webhook.body.toString('utf8')) as { type: string };
      res.json({ id: webhook.id, type: event.type });
    });
    app.post('/webhooks/raw', verify, (req, res) => {
      res.type('application/octet-stream').send(verifiedWebhook(req).body);
    });
    app.post('/other', express.json(), (req, res) => {
      res.json({ parsed: req.body as unknown });
    });
    await scenarios(await listenExpress(app), received, rejected);
  });

  it('uses the Buffer of express.raw() mounted before it', async () => {
    const app = express();
    app.post(
      '/webhooks',
      express.raw({ type: '*/*' }),
      webhookMiddleware(createWebhookVerifier({ secrets: canary })),
      (req, res) => {
        res.json({ id: verifiedWebhook(req).id });
      },
    );
    const base = await listenExpress(app);
    const signed = signer.sign({ body, id: 'evt_raw' });
    expect(await (await post(`${base}/webhooks`, body, signed.headers)).json()).toEqual({
      id: 'evt_raw',
    });
    expect((await post(`${base}/webhooks`, `${body} `, signed.headers)).status).toBe(401);
  });

  it('fails closed (500) when express.json() already parsed the body: the bytes are gone', async () => {
    const app = express();
    let handled = false;
    app.post(
      '/webhooks',
      express.json(),
      webhookMiddleware(createWebhookVerifier({ secrets: canary })),
      () => {
        handled = true;
      },
    );
    app.use(
      (error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        res.status(500).json({ message: error.message });
      },
    );
    const base = await listenExpress(app);
    const response = await post(`${base}/webhooks`, body, signer.sign({ body }).headers);
    expect(response.status).toBe(500);
    expect(((await response.json()) as { message: string }).message).toMatch(/already read/);
    expect(handled).toBe(false);
  });

  it('answers 413 to a body over the limit, declared or streamed', async () => {
    const app = express();
    app.post(
      '/webhooks',
      webhookMiddleware(createWebhookVerifier({ secrets: canary }), { limitBytes: 1000 }),
      (_req, res) => {
        res.end('ok');
      },
    );
    const base = await listenExpress(app);
    const big = 'x'.repeat(1001);
    const declared = await post(`${base}/webhooks`, big, signer.sign({ body: big }).headers);
    expect(declared.status).toBe(413);
    // Chunked, no content-length: the limit holds while reading.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpRequest(`${base}/webhooks`, {
        method: 'POST',
        headers: signer.sign({ body: big }).headers,
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      for (let i = 0; i < 20; i++) req.write('x'.repeat(100));
      req.end();
    });
    expect(status).toBe(413);
    const fits = 'y'.repeat(1000);
    expect((await post(`${base}/webhooks`, fits, signer.sign({ body: fits }).headers)).status).toBe(
      200,
    );
  });

  it('still answers 401 when the onRejected hook throws', async () => {
    const app = express();
    app.post(
      '/webhooks',
      webhookMiddleware(createWebhookVerifier({ secrets: canary }), {
        onRejected: () => {
          throw new Error('logger down');
        },
      }),
      (_req, res) => {
        res.end('handled');
      },
    );
    app.use(
      (
        _error: Error,
        _req: express.Request,
        res: express.Response,
        _next: express.NextFunction,
      ) => {
        if (!res.headersSent) res.status(500).end();
      },
    );
    const base = await listenExpress(app);
    expect((await post(`${base}/webhooks`, body, { 'custos-webhook-signature': 'x' })).status).toBe(
      401,
    );
  });

  it('verifiedWebhook throws on a route the middleware did not guard', () => {
    expect(() => verifiedWebhook({})).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});

describe('node:http', () => {
  it('works with the handler as next', async () => {
    const verify = webhookMiddleware(createWebhookVerifier({ secrets: canary }));
    const server = createServer((req, res) => {
      verify(req, res, (error) => {
        if (error !== undefined) {
          res.statusCode = 500;
          res.end();
          return;
        }
        res.end(verifiedWebhook(req).id);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const signed = signer.sign({ body, id: 'evt_node' });
    expect(await (await post(base, body, signed.headers)).text()).toBe('evt_node');
    expect((await post(base, `${body}x`, signed.headers)).status).toBe(401);
  });
});

describe('Fastify', () => {
  it('verifies the raw body in its scope, answers 401 without detail, leaves other routes alone', async () => {
    const received: VerifiedWebhook[] = [];
    const rejected: WebhookRejected[] = [];
    const app = Fastify();
    await app.register(async (scope) => {
      await scope.register(
        fastifyWebhooks(
          createWebhookVerifier({ secrets: canary, replay: createMemoryWebhookReplayStore() }),
          { onRejected: (e) => rejected.push(e) },
        ),
      );
      scope.post('/webhooks', async (request) => {
        const webhook = verifiedWebhook(request);
        received.push(webhook);
        expect(request.body).toBe(webhook.body);
        const event = JSON.parse(webhook.body.toString('utf8')) as { type: string };
        return { id: webhook.id, type: event.type };
      });
      scope.post('/webhooks/raw', async (request, reply) =>
        reply.type('application/octet-stream').send(verifiedWebhook(request).body),
      );
    });
    app.post('/other', async (request) => ({ parsed: request.body }));
    await scenarios(await listenFastify(app), received, rejected);
  });

  it('verifies a bodiless delivery and a body without a content type', async () => {
    const app = Fastify();
    await app.register(async (scope) => {
      await scope.register(fastifyWebhooks(createWebhookVerifier({ secrets: canary })));
      scope.post('/webhooks', async (request) => ({ size: verifiedWebhook(request).body.length }));
    });
    const base = await listenFastify(app);
    const empty = await fetch(`${base}/webhooks`, {
      method: 'POST',
      headers: signer.sign({ body: '' }).headers,
    });
    expect(await empty.json()).toEqual({ size: 0 });
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpRequest(`${base}/webhooks`, {
        method: 'POST',
        headers: {
          ...signer.sign({ body }).headers,
          'content-length': String(Buffer.byteLength(body)),
        },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(200);
  });

  it('still answers 401 when the onRejected hook throws', async () => {
    const app = Fastify();
    await app.register(async (scope) => {
      await scope.register(
        fastifyWebhooks(createWebhookVerifier({ secrets: canary }), {
          onRejected: () => {
            throw new Error('logger down');
          },
        }),
      );
      scope.post('/webhooks', async () => 'handled');
    });
    const base = await listenFastify(app);
    const response = await post(`${base}/webhooks`, body, { 'custos-webhook-signature': 'x' });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: 'webhook rejected' });
  });

  it('answers 413 to a body over bodyLimit', async () => {
    const app = Fastify();
    await app.register(async (scope) => {
      await scope.register(
        fastifyWebhooks(createWebhookVerifier({ secrets: canary }), { bodyLimit: 1000 }),
      );
      scope.post('/webhooks', async () => 'ok');
    });
    const base = await listenFastify(app);
    const big = 'x'.repeat(1001);
    expect((await post(`${base}/webhooks`, big, signer.sign({ body: big }).headers)).status).toBe(
      413,
    );
  });
});
