/**
 * The LIST adapter (list-method.ts) on a bare Node HTTP server with short timeouts: a
 * connection that sent LIST requests is not ended by the timeout checks of the parser that
 * failed on the first one, and LISTs on one connection never pile streams on streams.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { inTurn } from '../../test/raw-http.js';
import { adoptListRequest } from './list-method.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server answering `<method> <url>`, adopting LIST requests, timing out headers after 300 ms. */
async function listServer(): Promise<string> {
  const server = createServer(
    { headersTimeout: 300, connectionsCheckingInterval: 100 },
    (req, res) => res.end(`${req.method} ${req.url}`),
  );
  server.on('clientError', (error, socket: Duplex) => {
    if (!adoptListRequest(server, error, socket)) socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const list = (path: string) => `LIST ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

/** The answers as `<status> <body>`. */
const shown = (answers: readonly { status: number; body: string }[]) =>
  answers.map((answer) => `${answer.status} ${answer.body}`);

describe('LIST requests on one connection', () => {
  it('keep the connection beyond the headers timeout of the parser that failed on the LIST', async () => {
    // Found by an outside probe: the failed parser stayed in the server's timeout checks, which
    // ended the healthy connection with a 400 once its headers timeout passed.
    const url = await listServer();
    const answers = await inTurn(url, [list('/a'), get('/b'), list('/c'), get('/d')], 500);
    expect(shown(answers)).toEqual([
      '200 GET /a?list=true',
      '200 GET /b',
      '200 GET /c?list=true',
      '200 GET /d',
    ]);
  });

  it('are served however many come, without streams piling on streams', async () => {
    // Found by an outside probe: each LIST wrapped the stream of the one before, and some
    // 2,500 of them overflowed the stack and ended the process.
    const url = await listServer();
    const requests = Array.from({ length: 4000 }, (_, i) => list(`/n${i}`));
    const answers = await inTurn(url, requests);
    expect(answers).toHaveLength(4000);
    expect(shown(answers).at(-1)).toBe('200 GET /n3999?list=true');
  }, 60_000);
});
