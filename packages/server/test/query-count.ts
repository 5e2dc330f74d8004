/**
 * Counts the storage queries each request makes, on the real drivers: the PostgreSQL client's
 * `query` and SQLite's statement calls are wrapped (once per process), and each query is
 * charged to the request whose async context issued it. Queries of background jobs (the
 * change-event relay's polls, sweeps, the cluster heartbeat) belong to no request and are not
 * counted.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { RunningServer } from '../src/server.js';

/** The queries of one request, by their SQL text. */
type Bucket = string[];

const current = new AsyncLocalStorage<Bucket>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const clientProto = pg.Client.prototype as unknown as Record<string, unknown>;
  const query = clientProto.query as (...args: unknown[]) => unknown;
  clientProto.query = function counted(this: unknown, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === 'string' ? first : (first as { text?: string })?.text;
    current.getStore()?.push(String(text ?? ''));
    return query.apply(this, args);
  };
  const probe = new Database(':memory:');
  const statementProto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<
    string,
    unknown
  >;
  probe.close();
  for (const method of ['run', 'get', 'all', 'iterate']) {
    const original = statementProto[method] as (...args: unknown[]) => unknown;
    statementProto[method] = function counted(this: { source: string }, ...args: unknown[]) {
      current.getStore()?.push(this.source);
      return original.apply(this, args);
    };
  }
}

/**
 * Runs `work` and answers the storage queries it (and what it started) made.
 *
 * @example
 * ```ts
 * const sql = await queriesDuring(() => store.get('a'));
 * ```
 */
export async function queriesDuring(work: () => Promise<unknown>): Promise<string[]> {
  install();
  const bucket: Bucket = [];
  await current.run(bucket, work);
  return bucket;
}

/** The counter of one server. */
export interface RequestQueries {
  /** Runs `send` (one request) and answers the storage queries it made. */
  during(send: () => Promise<unknown>): Promise<string[]>;
}

/**
 * Starts counting the queries of `server`'s requests.
 *
 * @example
 * ```ts
 * const queries = countRequestQueries(server);
 * const sql = await queries.during(() => send(server.url, 'GET', 'secret/data/a'));
 * ```
 */
export function countRequestQueries(server: RunningServer): RequestQueries {
  install();
  let bucket: Bucket | undefined;
  // Before Fastify's own listener: what it runs for the request inherits the bucket.
  server.app.server.prependListener('request', () => {
    if (bucket !== undefined) current.enterWith(bucket);
  });
  return {
    async during(send) {
      const mine: Bucket = [];
      bucket = mine;
      try {
        await send();
      } finally {
        bucket = undefined;
      }
      return mine;
    },
  };
}
