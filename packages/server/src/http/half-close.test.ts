/**
 * A client that half-closes its side of the connection right after sending (shutdown(SHUT_WR),
 * `nc -N`, some proxies) still gets every answer, and the connection ends after the last one
 * (RFC 9112 §9.6: a half-closed connection does not mean the client lost interest). Node's
 * default aborted the request on the client's FIN, so a route that awaited anything (storage,
 * the audit log) answered nothing at all (found by an outside probe; Vault answers).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';
import { inParts, inTurn } from '../../test/raw-http.js';

/** A KV write of `body` (JSON text) to secret/data/<name>, as the root token. */
const post = (name: string, body: string) =>
  `POST /v1/secret/data/${name} HTTP/1.1\r\nHost: localhost\r\nX-Vault-Token: root\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

// Over HTTP only: over TLS the server would have to keep raw connections half-open too, which
// made TLS connections hang elsewhere (build-app.ts; http/NOTES.md).
describe('a client that half-closes after its request', () => {
  let s: TestServer;
  let dir: string;
  const token = 'X-Vault-Token: root\r\n';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-half-close-'));
    // Audited, as in production: every route then awaits the audit log before answering.
    s = await startTestServer('sqlite', {
      audit: [{ type: 'file', path: join(dir, 'audit.log'), name: 'file' }],
    });
    const [seeded] = await inTurn(s.url, [post('half', '{"data":{"a":"kept"}}')]);
    expect(seeded?.status).toBe(200);
  });
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['an unauthenticated route that awaits', 'GET /v1/sys/seal-status', '', '"sealed":false'],
    ['an authenticated KV read', 'GET /v1/secret/data/half', token, '"a":"kept"'],
    ['a LIST', 'LIST /v1/secret/metadata', token, '"half"'],
    ['a refusal', 'GET /v1/secret/data/half', '', 'permission denied'],
  ])('gets its answer: %s', async (_, line, auth, expected) => {
    const request = `${line} HTTP/1.1\r\nHost: localhost\r\n${auth}\r\n`;
    const answers = await inTurn(s.url, [request], 0, { halfClose: true });
    expect(answers).toHaveLength(1);
    expect(answers[0]?.body).toContain(expected);
  });

  it('gets its answer to a LIST after earlier LISTs on the same connection', async () => {
    const list = `LIST /v1/secret/metadata HTTP/1.1\r\nHost: localhost\r\n${token}\r\n`;
    const answers = await inTurn(s.url, [list, list, list], 0, { halfClose: true });
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    for (const answer of answers) expect(answer.body).toContain('"half"');
  });

  it('gets every answer of requests pipelined before the close, in order', async () => {
    const pipelined = [
      `GET /v1/secret/data/half HTTP/1.1\r\nHost: localhost\r\n${token}\r\n`,
      'GET /v1/sys/seal-status HTTP/1.1\r\nHost: localhost\r\n\r\n',
      post('half-written', '{"data":{"b":"w"}}'),
    ].join('');
    const answers = await inTurn(s.url, [pipelined], 0, { halfClose: true });
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers[0]?.body).toContain('"a":"kept"');
    expect(answers[1]?.body).toContain('"sealed":false');
    const read = `GET /v1/secret/data/half-written HTTP/1.1\r\nHost: localhost\r\n${token}\r\n`;
    const [written] = await inTurn(s.url, [read]);
    expect(written?.body).toContain('"b":"w"');
  });
});

// A client that ends its side before its request's body is whole (half-closed or gone): the
// body can never come, so the request is dropped with the connection. Waiting for its answer
// kept the connection open forever, the partial body in memory (found by an outside probe).
describe('a client that ends its side in the middle of a request body', () => {
  let s: TestServer;
  const log: string[] = [];
  beforeAll(async () => {
    s = await startTestServer('sqlite', {
      logLevel: 'info',
      logDestination: { write: (line: string) => void log.push(line) },
    });
  });
  afterAll(async () => {
    await s.close();
  });

  /** Sends `text` and half-closes; resolves once the server has closed the connection. */
  const closedAfter = (text: string) => inParts(s.url, [text], 0);

  it.each([
    ['a body shorter than its Content-Length', 'Content-Length: 100\r\n\r\n{"data":'],
    [
      'a chunked body without its last chunk',
      'Transfer-Encoding: chunked\r\n\r\n8\r\n{"data":\r\n',
    ],
    [
      'an Expect: 100-continue request that sends no body',
      'Content-Length: 20\r\nExpect: 100-continue\r\n\r\n',
    ],
  ])('is closed by the server, nothing written: %s', async (_, rest) => {
    const head =
      'POST /v1/secret/data/partial HTTP/1.1\r\nHost: localhost\r\nX-Vault-Token: root\r\n';
    const answer = await closedAfter(`${head}${rest}`);
    expect(answer).not.toMatch(/^HTTP\/1\.1 2/);
    expect((await s.request('GET', 'secret/data/partial')).status).toBe(404);
    expect((await s.request('GET', 'sys/health')).status).toBe(200);
  });

  it('is logged as the client going away, never as storage unavailable', async () => {
    log.length = 0;
    await closedAfter(
      'POST /v1/secret/data/partial HTTP/1.1\r\nHost: localhost\r\nX-Vault-Token: root\r\nContent-Length: 100\r\n\r\n{"data":',
    );
    await vi.waitFor(() =>
      expect(log.join('')).toContain(
        'the client closed its connection before sending its whole request',
      ),
    );
    expect(log.join('')).not.toMatch(/storage unavailable|ERR_STORAGE_UNAVAILABLE/);
  });
});

// A body that never finishes and no FIN (a slow client, or one holding connections open on
// purpose): the request timeout ends it. There was none (found by an outside probe: no answer
// after 110 s, the partial body held all along).
describe('a request body that never finishes', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite', { requestTimeoutMs: 400 });
  });
  afterAll(async () => {
    await s.close();
  });

  it('is cut off by the request timeout, the connection closed, nothing written', async () => {
    const { hostname, port } = new URL(s.url);
    const closed = new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () =>
        socket.write(
          'POST /v1/secret/data/slow HTTP/1.1\r\nHost: localhost\r\nX-Vault-Token: root\r\nContent-Length: 100\r\n\r\n{"data":',
        ),
      );
      socket.on('error', reject);
      socket.on('close', () => resolve());
    });
    // Nothing more is sent: only the server can end it.
    await closed;
    expect((await s.request('GET', 'secret/data/slow')).status).toBe(404);
    // A request sent whole within the time is served.
    expect(
      (await s.request('POST', 'secret/data/quick', { body: { data: { a: '1' } } })).status,
    ).toBe(200);
  });
});
