/** A small HTTPS server for contract tests of cloud KMS clients: a throwaway CA, JSON bodies. */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSignedCertificate } from '../tls.js';

/** One request as the server saw it. */
export interface SeenRequest {
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /** The raw body text. */
  readonly body: string;
}

/** What a handler answers. */
export interface JsonAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface HttpsJsonServer {
  /** `https://127.0.0.1:<port>` */
  readonly origin: string;
  readonly port: number;
  /** The certificate clients must trust (PEM). */
  readonly ca: string;
  /** An agent that trusts only that certificate. */
  readonly agent: Agent;
  /** Every request, in order. */
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

/** Starts an HTTPS server on 127.0.0.1 with a fresh self-signed certificate. */
export async function startHttpsJsonServer(
  handle: (request: SeenRequest) => JsonAnswer | Promise<JsonAnswer>,
): Promise<HttpsJsonServer> {
  const dir = await mkdtemp(join(tmpdir(), 'custos-cloudkms-'));
  const { certFile, keyFile } = selfSignedCertificate(dir);
  const ca = readFileSync(certFile, 'utf8');
  const requests: SeenRequest[] = [];
  const server = createServer(
    { cert: ca, key: readFileSync(keyFile, 'utf8') },
    (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const url = new URL(req.url ?? '/', 'https://127.0.0.1');
        const seen: SeenRequest = {
          method: req.method ?? '',
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        requests.push(seen);
        let answer: JsonAnswer;
        try {
          answer = await handle(seen);
        } catch (err) {
          answer = { status: 500, body: { error: { message: String(err) } } };
        }
        const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
        res.writeHead(answer.status, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(text),
          ...answer.headers,
        });
        res.end(text);
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ ca, keepAlive: false });
  return {
    origin: `https://127.0.0.1:${port}`,
    port,
    ca,
    agent,
    requests,
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Parses a JSON object body, or undefined when it is not one. */
export function jsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Strict standard base64 (padded), as proto3 JSON encodes bytes. */
export function strictBase64(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || value.length % 4 !== 0) return undefined;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) return undefined;
  return Buffer.from(value, 'base64');
}

/** Strict unpadded base64url, as Key Vault's JSON Web Algorithms bodies use. */
export function strictBase64url(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  return Buffer.from(value, 'base64url');
}
