/** Plain `node:http` servers on loopback that tests point clients at, recording what reaches them. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server received it: everything a leak could hide in. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A running recording server. */
export interface RecordingServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Every request received so far, in order. */
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

/** What a handler answers; `undefined` leaves the request hanging (timeouts). */
export type Answer = { status: number; headers?: Record<string, string>; body?: string };

/**
 * Starts a server on 127.0.0.1 (a random port) answering each request with `answer(request)`;
 * when `answer` returns `undefined` the request is never answered.
 *
 * @example
 * ```ts
 * const other = await recordingServer(() => ({ status: 200, body: '{}' }));
 * // … point a client elsewhere …
 * expect(other.seen).toEqual([]);
 * ```
 */
export async function recordingServer(
  answer: (request: SeenRequest) => Answer | undefined,
): Promise<RecordingServer> {
  const seen: SeenRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(request);
      const reply = answer(request);
      if (reply === undefined) {
        hanging.add(res);
        return;
      }
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on (taken, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
