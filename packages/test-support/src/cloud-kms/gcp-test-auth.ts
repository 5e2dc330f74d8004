/** A google-auth-library client for contract tests: a fixed access token, the test CA trusted. */
import { request } from 'node:https';
import { Readable } from 'node:stream';
import { OAuth2Client } from 'google-auth-library';
import type { HttpsJsonServer } from './https-json-server.js';

/**
 * gaxios's fetch over node:https with the test server's agent (gaxios otherwise uses an agent
 * google-gax picks, which trusts only the system CAs).
 */
function trustingFetch(server: HttpsJsonServer): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const body = init.body;
    return new Promise<Response>((resolve, reject) => {
      const req = request(
        url,
        { method: init.method ?? 'GET', headers, agent: server.agent },
        (res) => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (typeof value === 'string') responseHeaders.set(name, value);
          }
          resolve(
            new Response(Readable.toWeb(res) as ReadableStream, {
              status: res.statusCode ?? 500,
              headers: responseHeaders,
            }),
          );
        },
      );
      req.on('error', reject);
      if (typeof body === 'string' || body instanceof Uint8Array) req.end(body);
      else req.end();
    });
  }) as typeof fetch;
}

/** An OAuth2Client holding `token` (valid for an hour) that talks to `server` over TLS. */
export function gcpTestAuth(server: HttpsJsonServer, token: string): OAuth2Client {
  const client = new OAuth2Client({
    transporterOptions: { fetchImplementation: trustingFetch(server) },
  });
  client.setCredentials({ access_token: token, expiry_date: Date.now() + 3_600_000 });
  return client;
}
