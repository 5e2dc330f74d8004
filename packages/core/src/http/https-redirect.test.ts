import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { fastifyHttpsRedirect, httpsRedirect, withHttpsRedirect } from './index.js';

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

/** A raw GET (fetch would not let the Host header be set), from `localAddress`. */
function get(port: number, headers: Record<string, string>, localAddress = '127.0.0.1') {
  return new Promise<{ status: number; location: string | undefined; body: string }>(
    (resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/a/b?c=1', headers, localAddress },
        (res) => {
          let body = '';
          res.on('data', (c) => {
            body += c;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    },
  );
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

const OPTIONS = { trustedProxies: ['127.0.0.1/32'], allowedHosts: ['app.example.com'] };

describe.each([
  [
    'Express',
    async (options: typeof OPTIONS) => {
      const app = express();
      app.use(httpsRedirect(options));
      app.get('/a/b', (_req, res) => res.send('served'));
      return listen(createServer(app));
    },
  ],
  [
    'node:http',
    async (options: typeof OPTIONS) =>
      listen(createServer(withHttpsRedirect((_req, res) => res.end('served'), options))),
  ],
  [
    'Fastify',
    async (options: typeof OPTIONS) => {
      const app = Fastify();
      await app.register(fastifyHttpsRedirect, options);
      app.get('/a/b', async () => 'served');
      await app.listen({ port: 0, host: '127.0.0.1' });
      closers.push(() => app.close());
      return (app.server.address() as AddressInfo).port;
    },
  ],
])('httpsRedirect on %s', (_name, start) => {
  it('redirects plain HTTP to the allowed host, keeping path and query', async () => {
    const port = await start(OPTIONS);
    expect(await get(port, { host: 'APP.example.com:80' })).toEqual({
      status: 308,
      location: 'https://app.example.com/a/b?c=1',
      body: '',
    });
  });

  it('believes X-Forwarded-Proto only from a trusted proxy', async () => {
    const trusted = await start(OPTIONS);
    expect(
      (await get(trusted, { host: 'app.example.com', 'x-forwarded-proto': 'https' })).body,
    ).toBe('served');
    // The nearest proxy's value (the last) counts.
    expect(
      (await get(trusted, { host: 'app.example.com', 'x-forwarded-proto': 'https, http' })).status,
    ).toBe(308);
    // The same header from an address that is not a configured proxy: still redirected.
    const untrusted = await start({ ...OPTIONS, trustedProxies: ['10.0.0.0/8', '::1'] });
    expect(
      await get(untrusted, { host: 'app.example.com', 'x-forwarded-proto': 'https' }),
    ).toMatchObject({
      status: 308,
    });
  });

  it('refuses to redirect to a Host it does not serve', async () => {
    const port = await start(OPTIONS);
    expect(await get(port, { host: 'evil.example' })).toMatchObject({
      status: 400,
      location: undefined,
    });
  });
});

describe('httpsRedirect configuration', () => {
  it('refuses bad proxies and missing hosts at start-up', () => {
    const invalid = expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' });
    expect(() => httpsRedirect({ allowedHosts: [] })).toThrow(invalid);
    expect(() => httpsRedirect({ allowedHosts: ['a.example/evil'] })).toThrow(invalid);
    expect(() =>
      httpsRedirect({ allowedHosts: ['a.example'], trustedProxies: ['10.0.0.0/33'] }),
    ).toThrow(/not an IP address or CIDR range/);
    expect(() =>
      httpsRedirect({ allowedHosts: ['a.example'], trustedProxies: ['proxy.local'] }),
    ).toThrow(invalid);
    expect(() => httpsRedirect({ allowedHosts: ['a.example'], httpsPort: 0 })).toThrow(invalid);
  });
});
