/**
 * The LIST adapter (list-method.ts) on a bare Node HTTP server with short timeouts: a
 * connection that sent LIST requests is not ended by the timeout checks of the parser that
 * failed on the first one, and LISTs on one connection never pile streams on streams.
 */
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inTurn, statusesOf } from '../../test/raw-http.js';
import { adoptListRequest, afterAnswersOwed, answerOwed } from './list-method.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server answering `<method> <url>`, adopting LIST requests, timing out headers after 300 ms. */
async function listServer(onRequest: () => void = () => {}): Promise<string> {
  const server = createServer(
    { headersTimeout: 300, connectionsCheckingInterval: 100 },
    (req, res) => {
      onRequest();
      res.end(`${req.method} ${req.url}`);
    },
  );
  server.on('clientError', (error, socket: Duplex) => {
    if (!adoptListRequest(server, error, socket)) socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A server answering `/big` with 8 MB, anything else with `<method> <url>`, adopting LISTs. */
async function bigAnswerServer(): Promise<string> {
  const server = createServer((req, res) => {
    res.end(req.url === '/big' ? 'x'.repeat(8 * 1024 * 1024) : `${req.method} ${req.url}`);
  });
  server.on('clientError', (error, socket: Duplex) => {
    if (!adoptListRequest(server, error, socket))
      afterAnswersOwed(socket, () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
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
  it('end the stream of each LIST once the next takes the connection, so nothing piles up', async () => {
    // Found by an outside probe: every stream a later LIST replaced stayed open with its
    // parser (some 6 KB each, for the connection's life), and 160,000 LISTs on one connection
    // grew a server by a gigabyte. Counted here: the streams the server was handed (the
    // connection, then one per LIST) that are still open while each request is served.
    let open = 0;
    let mostOpen = 0;
    const url = await listServer(() => {
      mostOpen = Math.max(mostOpen, open);
    });
    const server = servers.at(-1) as Server;
    server.on('connection', (socket: Duplex) => {
      open++;
      socket.once('close', () => open--);
    });
    const answers = await inTurn(
      url,
      Array.from({ length: 200 }, (_, i) => list(`/n${i}`)),
    );
    expect(answers).toHaveLength(200);
    // The connection, the current LIST's stream and the one it just replaced (ending).
    expect(mostOpen).toBeLessThanOrEqual(3);
    await vi.waitFor(() => expect(open).toBe(0));
  });
});

describe('an answer still owed on a connection', () => {
  const request = {};
  const withAnswer = (
    state: { writableEnded: boolean; writableFinished: boolean } | null,
    latest: object = request,
  ) =>
    ({
      _httpMessage: state === null ? null : { ...state, req: request },
      parser: { incoming: latest },
    }) as unknown as Duplex;

  it('is one not ended yet; an ended one is on its way out whatever its write callback', () => {
    // Found by an outside probe: over TLS the write callback of an ended answer comes later,
    // and a client's next LIST, sent as soon as it had the answer, was refused with a 400.
    const pending = withAnswer({ writableEnded: false, writableFinished: false });
    expect(answerOwed(pending)).toBe((pending as unknown as { _httpMessage: object })._httpMessage);
    expect(
      answerOwed(withAnswer({ writableEnded: true, writableFinished: false })),
    ).toBeUndefined();
    expect(answerOwed(withAnswer({ writableEnded: true, writableFinished: true }))).toBeUndefined();
    expect(answerOwed(withAnswer(null))).toBeUndefined();
  });

  it('is the answer queued behind an ended one, for a request read after it', () => {
    // Found by the next probe: with only the ended answer looked at, a LIST's answer went out
    // before that of a request pipelined behind a large answer still being flushed.
    const queued = withAnswer({ writableEnded: true, writableFinished: false }, {});
    expect(answerOwed(queued)).toBeDefined();
  });

  it('keeps answers in order: a LIST after pipelined requests waits for all of them', async () => {
    const url = await bigAnswerServer();
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    await new Promise((resolve) => socket.once('connect', resolve));
    // A large answer the client does not read yet, then one pipelined behind it.
    socket.pause();
    socket.write(get('/big') + get('/b'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    socket.write(list('/c'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    socket.resume();
    await vi.waitFor(() => expect(statusesOf(text)).toHaveLength(3), { timeout: 10_000 });
    socket.destroy();
    const order = [...text.matchAll(/\r\n\r\n(GET \/b|GET \/c\?list=true|x{16})/g)].map((m) =>
      (m[1] as string).startsWith('x') ? 'big' : m[1],
    );
    // The LIST comes last, served or refused, never before the answer owed to `/b`.
    expect(order.slice(0, 2)).toEqual(['big', 'GET /b']);
    expect(statusesOf(text).slice(0, 2)).toEqual([200, 200]);
  });
});
