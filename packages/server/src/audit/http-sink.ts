import { ServerError } from '../errors.js';
import type { AuditSink } from './sinks.js';

/** Where an HTTP sink posts, and how. */
export interface HttpSinkOptions {
  readonly url: string;
  /** Sent with every POST (an `Authorization` header for the receiver, say). Never logged. */
  readonly headers?: Readonly<Record<string, string>>;
  /** How long one POST may take (default 5000 ms). */
  readonly timeoutMs?: number;
}

/**
 * Ships audit lines to a collector over HTTP: each group commit of the chain is one `POST` of
 * newline-delimited JSON (`application/x-ndjson`), and the lines count as written only when the
 * receiver answers 2xx. Any other answer, a refused connection or a timeout fails the write,
 * so a request that no sink recorded fails (fail closed), as with a file. It cannot be read
 * back: like stdout, each activation starts a new chain, and the receiver keeps the lines.
 * Error messages name the status or the network error code, never the URL's credentials, the
 * headers or the lines.
 *
 * @example
 * ```ts
 * const sink = createHttpSink('collector', { url: 'https://logs.internal/custos', headers: { authorization: 'Bearer …' } });
 * ```
 */
export function createHttpSink(name: string, options: HttpSinkOptions): AuditSink {
  const url = new URL(options.url);
  const timeoutMs = options.timeoutMs ?? 5000;
  const fail = (why: string) =>
    new ServerError('ERR_AUDIT_UNAVAILABLE', `audit sink ${name}: ${why}`);
  return {
    name,
    destination: `http:${url.origin}${url.pathname}`,
    async write(lines) {
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { ...options.headers, 'content-type': 'application/x-ndjson' },
          body: `${lines}\n`,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        });
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        throw fail(
          e.name === 'TimeoutError'
            ? `the receiver did not answer within ${timeoutMs} ms`
            : `the receiver could not be reached (${e.cause?.code ?? e.name})`,
        );
      }
      // The body is read and dropped (keeps the connection reusable); it is never reported.
      await response.arrayBuffer().catch(() => undefined);
      if (response.status < 200 || response.status > 299)
        throw fail(`the receiver answered HTTP ${response.status}`);
    },
    close: async () => {},
  };
}
