/**
 * What `close()` must not wait for: a connection that never sent a request (an HTTP client's
 * pooled socket, left open after the request it was opened for was aborted), and a long-poll of
 * change events, which the server answers at once at shutdown rather than at the end of its
 * `wait`. Each server here has a grace far longer than the test's own timeout: a close that
 * waited it out fails the test.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../harness.js';

const LONG_GRACE_MS = 600_000;
const TEST_LIMIT_MS = 20_000;

/** A TCP connection to the server that sends nothing. */
async function silentConnection(server: TestServer): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port: Number(new URL(server.url).port) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  return socket;
}

describe.each(await storageKinds())('server close on %s', (kind) => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.storage.cleanup();
    server = undefined;
  });

  it(
    'closes a connection that never sent a request instead of waiting for it',
    async () => {
      server = await startTestServer(kind, { shutdownGraceMs: LONG_GRACE_MS });
      expect((await server.request('GET', 'sys/health')).status).toBe(200);
      const socket = await silentConnection(server);
      const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      await server.server.close();
      await ended;
      expect(socket.destroyed).toBe(true);
    },
    TEST_LIMIT_MS,
  );

  it(
    'answers an open change-event long-poll at shutdown, not at the end of its wait',
    async () => {
      server = await startTestServer(kind, { shutdownGraceMs: LONG_GRACE_MS });
      // index 0 is answered at once with the current index; the second poll waits.
      const first = await send(server.url, 'GET', 'sys/events/kv?index=0&wait=60s', {
        token: 'root',
      });
      expect(first.status).toBe(200);
      const seen = new Promise<void>((resolve) =>
        server?.server.app.server.once('request', () => resolve()),
      );
      const waiting = send(
        server.url,
        'GET',
        `sys/events/kv?index=${first.body.data.index}&wait=60s`,
        { token: 'root' },
      );
      await seen;
      await server.server.close();
      const answer = await waiting;
      expect([200, 503]).toContain(answer.status);
      if (answer.status === 200) expect(answer.body.data.events).toEqual([]);
    },
    TEST_LIMIT_MS,
  );
});
