/**
 * The LIST adapter (list-method.ts) on a bare Node HTTP server with short timeouts: a
 * connection that sent LIST requests is not ended by the timeout checks of the parser that
 * failed on the first one, and LISTs on one connection never pile streams on streams.
 */
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { adoptListRequest } from './list-method.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server answering `<method> <url>`, adopting LIST requests, timing out headers after 300 ms. */
async function listServer(): Promise<number> {
  const server = createServer(
    { headersTimeout: 300, connectionsCheckingInterval: 100 },
    (req, res) => res.end(`${req.method} ${req.url}`),
  );
  server.on('clientError', (error, socket: Duplex) => {
    if (!adoptListRequest(server, error, socket)) socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Sends each request once the answer before it came; the answers' bodies, in order. */
async function inTurn(socket: Socket, requests: readonly string[], pauseMs = 0): Promise<string[]> {
  const bodies: string[] = [];
  let text = '';
  for (const request of requests) {
    // Between requests only: a connection idle before its first request times out by design.
    if (pauseMs > 0 && bodies.length > 0) await new Promise((r) => setTimeout(r, pauseMs));
    socket.write(request);
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        text += chunk.toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = text.slice(0, end);
        const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1];
        const start = end + 4;
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (text.length < start + length) return;
        bodies.push(`${status} ${text.slice(start, start + length)}`);
        text = text.slice(start + length);
        socket.off('data', onData);
        resolve();
      };
      socket.on('data', onData);
      socket.once('close', () => reject(new Error(`closed after ${bodies.length} answers`)));
    });
  }
  return bodies;
}

const list = (path: string) => `LIST ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

describe('LIST requests on one connection', () => {
  it('keep the connection beyond the headers timeout of the parser that failed on the LIST', async () => {
    // Found by an outside probe: the failed parser stayed in the server's timeout checks, which
    // ended the healthy connection with a 400 once its headers timeout passed.
    const port = await listServer();
    const socket = connect(port, '127.0.0.1');
    try {
      const answers = await inTurn(socket, [list('/a'), get('/b'), list('/c'), get('/d')], 500);
      expect(answers).toEqual([
        '200 GET /a?list=true',
        '200 GET /b',
        '200 GET /c?list=true',
        '200 GET /d',
      ]);
    } finally {
      socket.destroy();
    }
  });

  it('are served however many come, without streams piling on streams', async () => {
    // Found by an outside probe: each LIST wrapped the stream of the one before, and some
    // 2,500 of them overflowed the stack and ended the process.
    const port = await listServer();
    const socket = connect(port, '127.0.0.1');
    try {
      const requests = Array.from({ length: 4000 }, (_, i) => list(`/n${i}`));
      const answers = await inTurn(socket, requests);
      expect(answers).toHaveLength(4000);
      expect(answers.at(-1)).toBe('200 GET /n3999?list=true');
    } finally {
      socket.destroy();
    }
  }, 60_000);
});
