import { randomBytes } from 'node:crypto';
/**
 * The HTTP and syslog sinks against real local receivers: the lines arrive as one chain that
 * verifies, values stay HMAC'd, and a receiver that fails or is gone fails the request (fail
 * closed), with a reason that holds neither the sink's credentials nor entry contents.
 */
import { createSocket } from 'node:dgram';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { send } from '../../test/harness.js';
import { parseServerConfig } from '../config/server-config.js';
import { type RunningServer, type StartOptions, startServer } from '../server.js';
import { verifyAuditLog } from './audit-verify.js';

const ROOT = 'root';
const CANARY = 'canary-value-7f3a9e';
// Made at run time: no literal that looks like a credential sits in the repository.
const HEADER_SECRET = `collector-token-${randomBytes(6).toString('hex')}`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function custos(audit: NonNullable<StartOptions['audit']>) {
  const logs: string[] = [];
  const server: RunningServer = await startServer({
    dev: { rootTokenId: ROOT },
    port: 0,
    logLevel: 'error',
    audit,
    auditTimeoutMs: 1500,
    logDestination: { write: (line: string) => void logs.push(line) },
  });
  cleanups.push(() => server.close());
  const writeCanary = () =>
    send(server.url, 'POST', 'secret/data/shipped', {
      token: ROOT,
      body: { data: { pin: CANARY } },
    });
  return { server, logs, writeCanary };
}

const listening = <T extends HttpServer | TcpServer>(server: T) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
const closing = (server: HttpServer | TcpServer) =>
  new Promise<void>((resolve) => server.close(() => resolve()));

/** The MSG parts of RFC 5424 messages, checking each header. */
function auditLinesOf(messages: readonly string[]): string[] {
  return messages.map((m) => {
    const match = /^<134>1 (\S+) (\S+) custos (\d+) audit - (\{.*\})$/.exec(m);
    expect(match, m.slice(0, 80)).not.toBeNull();
    expect(Number.isNaN(Date.parse(match?.[1] as string))).toBe(false);
    return match?.[4] as string;
  });
}

describe('HTTP audit sink', () => {
  it('posts NDJSON batches with its headers; a failing or absent receiver fails the request', async () => {
    const bodies: string[] = [];
    const auth: (string | undefined)[] = [];
    let status = 200;
    const receiver = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        auth.push(req.headers.authorization);
        expect(req.headers['content-type']).toBe('application/x-ndjson');
        if (status === 200) bodies.push(body);
        res.writeHead(status).end(`receiver said: ${HEADER_SECRET}`);
      });
    });
    const port = await listening(receiver);
    cleanups.push(() => closing(receiver));
    const { server, logs, writeCanary } = await custos([
      {
        type: 'http',
        name: 'collector',
        url: `http://127.0.0.1:${port}/ingest`,
        headers: { authorization: `Bearer ${HEADER_SECRET}` },
      },
    ]);
    expect((await writeCanary()).status).toBe(200);
    const text = bodies.join('');
    const report = verifyAuditLog(text);
    expect(report.problems).toEqual([]);
    expect(report.firstSeq).toBe(1);
    expect(text).not.toContain(CANARY);
    expect(text).toMatch(/"pin":"hmac-sha256:[0-9a-f]{64}"/);
    expect(auth.every((a) => a === `Bearer ${HEADER_SECRET}`)).toBe(true);
    const listed = await send(server.url, 'GET', 'sys/audit', { token: ROOT });
    expect(listed.body.data['collector/']).toMatchObject({ type: 'http' });

    status = 503;
    const refused = await writeCanary();
    expect(refused.status).toBe(500);
    expect(refused.body.errors).toEqual(['audit log unavailable']);
    expect(logs.join('\n')).toContain('audit sink collector: the receiver answered HTTP 503');

    status = 200;
    await closing(receiver);
    cleanups.pop();
    const gone = await writeCanary();
    expect(gone.status).toBe(500);
    expect(logs.join('\n')).toContain(
      'audit sink collector: the receiver could not be reached (ECONNREFUSED)',
    );
    for (const secret of [HEADER_SECRET, CANARY]) expect(logs.join('\n')).not.toContain(secret);
  });
});

describe('syslog audit sink', () => {
  it('sends RFC 5424 messages over TCP with octet counting; a collector gone fails the request', async () => {
    const messages: string[] = [];
    const sockets: Socket[] = [];
    const collector = createTcpServer((socket) => {
      sockets.push(socket);
      let buffer = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        buffer = Buffer.concat([buffer, chunk]);
        for (;;) {
          const space = buffer.indexOf(0x20);
          if (space === -1) break;
          const length = Number(buffer.subarray(0, space).toString());
          if (buffer.length < space + 1 + length) break;
          messages.push(buffer.subarray(space + 1, space + 1 + length).toString('utf8'));
          buffer = buffer.subarray(space + 1 + length);
        }
      });
    });
    const port = await listening(collector);
    const { server, logs, writeCanary } = await custos([
      { type: 'syslog', name: 'syslog', host: '127.0.0.1', port, transport: 'tcp' },
    ]);
    expect((await writeCanary()).status).toBe(200);
    // The response entry is handed to the socket before the answer; it may arrive a moment later.
    await expect.poll(() => messages.length).toBeGreaterThanOrEqual(3);
    const lines = auditLinesOf(messages);
    expect(verifyAuditLog(`${lines.join('\n')}\n`).problems).toEqual([]);
    expect(lines.join('\n')).not.toContain(CANARY);
    const listed = await send(server.url, 'GET', 'sys/audit', { token: ROOT });
    expect(listed.body.data['syslog/']).toMatchObject({ type: 'syslog' });

    // The collector goes away: its connections are cut and it listens no more.
    for (const socket of sockets) socket.destroy();
    await closing(collector);
    await expect
      .poll(async () => (await writeCanary()).status, { timeout: 5000, interval: 100 })
      .toBe(500);
    expect(logs.join('\n')).toMatch(/audit sink syslog: /);
    expect(logs.join('\n')).not.toContain(CANARY);
  });

  it('sends one RFC 5424 datagram per entry over UDP', async () => {
    const messages: string[] = [];
    const collector = createSocket('udp4');
    collector.on('message', (message) => messages.push(message.toString('utf8')));
    const port = await new Promise<number>((resolve) =>
      collector.bind(0, '127.0.0.1', () => resolve(collector.address().port)),
    );
    cleanups.push(() => new Promise<void>((resolve) => collector.close(() => resolve())));
    const { writeCanary } = await custos([
      { type: 'syslog', name: 'syslog', host: '127.0.0.1', port, transport: 'udp' },
    ]);
    expect((await writeCanary()).status).toBe(200);
    await expect.poll(() => messages.length).toBeGreaterThanOrEqual(3);
    const lines = auditLinesOf(messages);
    const report = verifyAuditLog(`${lines.join('\n')}\n`);
    expect(report.problems).toEqual([]);
    expect(lines.join('\n')).not.toContain(CANARY);
  });
});

describe('configuration of the shipping sinks', () => {
  it('reads an http and a syslog sink', () => {
    const config = parseServerConfig(
      {
        storage: 'x',
        audit: [
          {
            type: 'http',
            url: 'https://logs.internal/custos',
            headers: { authorization: 'Bearer t' },
          },
          { type: 'syslog', address: '[::1]:6514', transport: 'udp', facility: 'auth' },
        ],
      },
      '/',
    );
    expect(config.audit).toEqual([
      {
        type: 'http',
        name: 'http',
        url: 'https://logs.internal/custos',
        headers: { authorization: 'Bearer t' },
      },
      {
        type: 'syslog',
        name: 'syslog',
        host: '::1',
        port: 6514,
        transport: 'udp',
        facility: 'auth',
        appName: 'custos',
      },
    ]);
  });

  it.each([
    [{ type: 'http', url: 'http://logs.internal/x' }, /plain http to another host/],
    [{ type: 'http', url: 'ftp://logs.internal/x' }, /must be an http\(s\) URL/],
    [{ type: 'http', url: 'https://l/x', headers: { a: 1 } }, /headers must map/],
    [{ type: 'http', url: 'https://l/x', token: 't' }, /unknown field audit\[0\]\.token/],
    [{ type: 'syslog', address: 'collector' }, /address must be "host:port"/],
    [{ type: 'syslog', address: 'c:514', transport: 'tls' }, /transport must be "tcp" or "udp"/],
    [{ type: 'syslog', address: 'c:514', facility: 'kern' }, /facility must be one of/],
  ])('refuses %j', (sink, message) => {
    expect(() => parseServerConfig({ storage: 'x', audit: [sink] }, '/')).toThrow(message);
  });
});
