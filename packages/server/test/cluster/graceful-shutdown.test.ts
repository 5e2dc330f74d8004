/**
 * Graceful shutdown: `close()` (what SIGTERM runs) stops accepting connections at once, lets a
 * request in flight finish with its answer, closes the audit log with its close entry and final
 * checkpoint (the file verifies afterwards), and cuts a request that outlives the bound.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../src/audit/audit-verify.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { createTestStorage, type StorageKind, storageKinds, type TestStorage } from '../harness.js';

/** A request sent in two halves over a raw socket: the first half puts it in flight. */
async function startSlowWrite(server: RunningServer, token: string, path: string, body: string) {
  const { port } = new URL(server.url);
  const socket = connect({ host: '127.0.0.1', port: Number(port) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    received += chunk;
  });
  const ended = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  const seen = new Promise<void>((resolve) => server.app.server.once('request', () => resolve()));
  const half = Math.floor(body.length / 2);
  socket.write(
    `POST /v1/${path} HTTP/1.1\r\nhost: localhost\r\nx-vault-token: ${token}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body.slice(0, half)}`,
  );
  await seen;
  return {
    finish: () => socket.write(body.slice(half)),
    response: ended,
    socket: socket as Socket,
  };
}

/** Whether a new TCP connection to the server is refused. */
function refused(server: RunningServer): Promise<boolean> {
  const { port } = new URL(server.url);
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

async function untilRefused(server: RunningServer): Promise<void> {
  while (!(await refused(server))) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe.each(await storageKinds())('graceful shutdown on %s', (kind: StorageKind) => {
  let dir: string;
  let storage: TestStorage;
  const rootToken = `root-${randomBytes(8).toString('hex')}`;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-shutdown-'));
    storage = await createTestStorage(kind);
  });
  afterEach(async () => {
    await storage.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const start = (shutdownGraceMs?: number) =>
    startServer({
      dev: { rootTokenId: rootToken },
      storage: storage.location,
      port: 0,
      logLevel: 'silent',
      audit: [{ type: 'file', path: join(dir, 'audit.log') }],
      ...(shutdownGraceMs === undefined ? {} : { shutdownGraceMs }),
    });

  it('finishes the request in flight with 200, refuses new connections, closes the audit log', async () => {
    const server = await start();
    const value = randomBytes(16).toString('hex');
    const slow = await startSlowWrite(
      server,
      rootToken,
      'secret/data/in-flight',
      JSON.stringify({ data: { value } }),
    );
    const closing = server.close();
    await untilRefused(server);
    slow.finish();
    const response = await slow.response;
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    await closing;

    const log = await readFile(join(dir, 'audit.log'), 'utf8');
    const report = verifyAuditLog(log);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    const entries = log
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    // The write's response was audited before the close entry, which a checkpoint follows.
    const responseIndex = entries.findIndex(
      (e) => e.type === 'response' && e.request?.path === 'secret/data/in-flight',
    );
    const closeIndex = entries.findIndex((e) => e.type === 'close');
    expect(responseIndex).toBeGreaterThan(-1);
    expect(closeIndex).toBeGreaterThan(responseIndex);
    expect(entries[closeIndex + 1]?.type).toBe('checkpoint');

    // The acknowledged write is in storage for the next start (dev mode restarts on a file,
    // where it keeps its unseal key).
    if (kind === 'sqlite') {
      const again = await start();
      try {
        const read = await fetch(`${again.url}/v1/secret/data/in-flight`, {
          headers: { 'x-vault-token': rootToken },
        });
        expect(read.status).toBe(200);
        expect(((await read.json()) as { data: { data: unknown } }).data.data).toEqual({ value });
      } finally {
        await again.close();
      }
    }
  });

  it('cuts a request that outlives the bound, and still closes the audit log', async () => {
    const server = await start(200);
    const slow = await startSlowWrite(
      server,
      rootToken,
      'secret/data/stuck',
      JSON.stringify({ data: { value: 'x' } }),
    );
    // The second half never comes: close() must end anyway.
    await server.close();
    expect(await slow.response).toBe('');
    const report = verifyAuditLog(await readFile(join(dir, 'audit.log'), 'utf8'));
    expect(report.problems).toEqual([]);
  });
});
