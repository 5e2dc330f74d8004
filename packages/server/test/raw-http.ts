/**
 * HTTP/1.1 over a raw TCP connection, for tests that control what fetch cannot: the `Host`
 * header, methods Node's client refuses (`LIST`), how bytes are split into reads, and several
 * requests on one connection.
 */
import { connect } from 'node:net';

/** An answer read off the connection: its status and its body (by `Content-Length`). */
export interface RawAnswer {
  readonly status: number;
  readonly body: string;
}

/** Whole answers at the start of `text`, and what is left after them. */
function takeAnswers(text: string): { answers: RawAnswer[]; rest: string } {
  const answers: RawAnswer[] = [];
  let rest = text;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) return { answers, rest };
    const head = rest.slice(0, end);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (rest.length < end + 4 + length) return { answers, rest };
    answers.push({
      status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
      body: rest.slice(end + 4, end + 4 + length),
    });
    rest = rest.slice(end + 4 + length);
  }
}

/**
 * Sends `requests` on one connection to `url`'s host and port, each once the answer before it
 * is whole (as a browser or a Vault client reuses a kept-alive connection), `pauseMs` apart;
 * resolves with the answers, in order, once all came or the server closed the connection.
 * With `halfClose`, the last request is sent with the client's FIN (shutdown of its side).
 *
 * @example
 * ```ts
 * const [answer] = await inTurn(s.url, ['LIST /v1/secret/metadata HTTP/1.1\r\nHost: x\r\n\r\n']);
 * ```
 */
export function inTurn(
  url: string,
  requests: readonly string[],
  pauseMs = 0,
  { halfClose = false }: { halfClose?: boolean } = {},
): Promise<RawAnswer[]> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const answers: RawAnswer[] = [];
    let text = '';
    let sent = 0;
    const sendNext = () => {
      if (sent === requests.length) socket.end();
      else if (halfClose && sent === requests.length - 1) socket.end(requests[sent++] as string);
      else socket.write(requests[sent++] as string);
    };
    const socket = connect(Number(port), hostname, sendNext);
    socket.on('data', (chunk) => {
      const taken = takeAnswers(text + chunk.toString('latin1'));
      text = taken.rest;
      answers.push(...taken.answers);
      if (taken.answers.length === 0 || answers.length < sent) return;
      if (pauseMs > 0) setTimeout(sendNext, pauseMs);
      else sendNext();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(answers));
  });
}

/**
 * Writes `parts` on one connection, `pauseMs` apart (each part one write, so the server reads
 * the parts apart), then ends it; resolves with every byte the server sent back, as text.
 *
 * @example
 * ```ts
 * const text = await inParts(s.url, [head, `${body}LIST /v1/sys/health HTTP/1.1\r\n\r\n`]);
 * ```
 */
export function inParts(url: string, parts: readonly string[], pauseMs = 200): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(Number(port), hostname, async () => {
      for (const part of parts) {
        socket.write(part);
        await new Promise((r) => setTimeout(r, pauseMs));
      }
      socket.end();
    });
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });
}

/** The status of every answer in raw response text, in order. */
export const statusesOf = (text: string): number[] =>
  [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
