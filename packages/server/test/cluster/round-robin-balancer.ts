/**
 * A small load balancer for cluster tests (node:http): round-robin over the nodes, and a request
 * a node did not take is tried on the next one: a refused or reset connection, or a 503 (a node
 * closing, sealed after its restart, or without storage). A real balancer does the same with
 * health checks on `sys/health` (docs/operations.md).
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface Balancer {
  readonly url: string;
  /** Requests that were retried on another node (what the balancer hid from its clients). */
  readonly retried: () => number;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function forward(
  target: string,
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, target);
    const outgoing = httpRequest(
      url,
      { method, headers: { ...headers, host: url.host }, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** Starts a balancer on a free loopback port in front of `nodes()` (read per request). */
export async function startBalancer(nodes: () => readonly string[]): Promise<Balancer> {
  let next = 0;
  let retried = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const targets = nodes();
      const first = next++;
      let last: Answer | Error = new Error('no node');
      // Every node in turn, up to 20 rounds, with a short pause between rounds.
      for (let attempt = 0; attempt < targets.length * 20; attempt++) {
        const target = targets[(first + attempt) % targets.length] as string;
        if (attempt > 0) retried++;
        if (attempt > 0 && attempt % targets.length === 0)
          await new Promise((resolve) => setTimeout(resolve, 50));
        try {
          last = await forward(target, req.method ?? 'GET', req.url ?? '/', req.headers, body);
          if (last.status !== 503) break;
        } catch (err) {
          last = err as Error;
        }
      }
      if (last instanceof Error) {
        res.writeHead(502).end(last.message);
        return;
      }
      res.writeHead(last.status, { 'content-type': String(last.headers['content-type'] ?? '') });
      res.end(last.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('balancer has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    retried: () => retried,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
