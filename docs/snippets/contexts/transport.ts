/**
 * docs/transport.md: an Express `app` (served on loopback after the snippet, whose headers,
 * nonce and redirect `finish()` checks over HTTP), the API key it hands out, a request and its
 * response in flight (`req`, `res`) for the cookie example, a certificate and key in the working
 * directory (`SSL_CERT_PATH`, `SSL_KEY_PATH`), a logger, and `DATABASE_URL` / `REDIS_URL`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { POSTGRES_URL, REDIS_URL } from '@custos/test-support/services';
import { selfSignedCertificate } from '@custos/test-support/tls';
import express from 'express';
import {
  check,
  fetchWithin,
  listen,
  type SnippetExports,
  snippetMentions,
  workDir,
} from '../support.js';

export const app = express();
export const key = `ck_${randomBytes(16).toString('hex')}`;
export const log = { error: (message: unknown) => console.error(message) };

const { certFile, keyFile } = selfSignedCertificate(workDir);
process.env.SSL_CERT_PATH = certFile;
process.env.SSL_KEY_PATH = keyFile;
process.env.DATABASE_URL = POSTGRES_URL;
process.env.REDIS_URL = REDIS_URL;

// A request that presents a session cookie, held open while the snippet answers it.
export const sessionToken = randomBytes(24).toString('base64url');
const inFlight = await (async () => {
  const server = createServer();
  const url = await listen(server);
  const arrived = new Promise<{ req: IncomingMessage; res: ServerResponse }>((resolve) =>
    server.once('request', (req: IncomingMessage, res: ServerResponse) => resolve({ req, res })),
  );
  const answered = fetchWithin(url, { headers: { cookie: `session=${sessionToken}` } });
  return { server, ...(await arrived), answered };
})();
export const req = inFlight.req;
export const res = inFlight.res;

function get(url: string, host: string): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    request(
      { host: target.hostname, port: target.port, path: target.pathname, headers: { host } },
      (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, location: response.headers.location });
      },
    )
      .on('error', reject)
      .end();
  });
}

export async function finish(_snippet: SnippetExports): Promise<void> {
  const server = createServer(app);
  try {
    res.end();
    const cookie = (await inFlight.answered).headers.get('set-cookie') ?? '';
    if (snippetMentions('setSessionCookie'))
      check(cookie.startsWith(`session=${sessionToken};`), `the session cookie: ${cookie}`);
    const url = await listen(server);
    if (snippetMentions('securityHeaders')) {
      const page = await fetchWithin(`${url}/`);
      const nonce = /nonce="([^"]+)"/.exec(await page.text())?.[1];
      const csp = page.headers.get('content-security-policy') ?? '';
      check(nonce && csp.includes(`'nonce-${nonce}'`), `the page's nonce is in the CSP: ${csp}`);
      check(page.headers.get('strict-transport-security')?.includes('max-age='), 'HSTS is sent');
      const sensitive = await fetchWithin(`${url}/api-key`);
      check(sensitive.headers.get('cache-control') === 'no-store', 'the key is not cached');
      check(((await sensitive.json()) as { key: string }).key === key, 'the key is served');
    }
    if (snippetMentions('httpsRedirect')) {
      const redirected = await get(`${url}/account?tab=1`, 'app.example.com');
      check(redirected.status === 308, `plain http is redirected: ${redirected.status}`);
      check(
        redirected.location === 'https://app.example.com/account',
        `to https: ${redirected.location}`,
      );
      const foreign = await get(`${url}/`, 'evil.example.net');
      check(foreign.status === 400, `another Host is refused: ${foreign.status}`);
    }
  } finally {
    server.close();
    inFlight.server.close();
  }
  // The connection example's Redis client stays connected, as an application's does.
  if (snippetMentions('redisConnectionOptions')) process.exit(0);
}
