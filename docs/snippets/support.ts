/**
 * What the documentation contexts share: the run's PostgreSQL schema and Redis key prefix (named
 * by the test, which removes them afterwards), an in-process custos dev server, key files in the
 * snippet's working directory, and a bounded HTTP request for the checks after a snippet.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Keyring, readKeyringFile } from '@custos/core/crypto';
import { POSTGRES_URL, REDIS_URL } from '@custos/test-support/services';
import { Redis } from 'ioredis';
import pg from 'pg';

/** The snippet's working directory: a fresh temporary directory per run. */
export const workDir = process.cwd();

/**
 * Whether the snippet being run mentions `word` (a whole word of its source), so that a context
 * starts an expensive service (a server, a database) only for the snippets that use it.
 */
export function snippetMentions(...words: string[]): boolean {
  const code = process.env.CUSTOS_DOCS_SNIPPET_CODE ?? '';
  return words.some((word) => new RegExp(`\\b${word}\\b`).test(code));
}

/** The PostgreSQL schema of this run (created on first use), from the test. */
export function pgSchema(): string {
  const schema = process.env.CUSTOS_DOCS_PG_SCHEMA;
  if (!schema)
    throw new Error('CUSTOS_DOCS_PG_SCHEMA is not set: run through docs-snippets.test.ts');
  return schema;
}

/** A connection string whose sessions use this run's schema, created here if need be. */
export async function postgresUrlForRun(): Promise<string> {
  const schema = pgSchema();
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(`create schema if not exists "${schema}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/** An ioredis client whose keys all start with this run's prefix (removed by the test). */
export function redisForRun(): Redis {
  const keyPrefix = process.env.CUSTOS_DOCS_REDIS_PREFIX;
  if (!keyPrefix) throw new Error('CUSTOS_DOCS_REDIS_PREFIX is not set');
  return new Redis(REDIS_URL, { keyPrefix, maxRetriesPerRequest: 2 });
}

/**
 * Creates `keyring.json` with the Quick start's two commands, run as written (in process, through
 * the CLI's `main`): `custos keyring create` (keys `default` and `blind-index`, mode 0600) and
 * `custos keyring add … --name deterministic --algorithm aes-256-gcm-siv`. So the examples get
 * exactly the keyring a reader following the guide has, not one assembled here.
 */
export async function writeQuickStartKeyring(
  file = join(workDir, 'keyring.json'),
): Promise<Keyring> {
  const { main } = await import('custos');
  const commands = [
    ['keyring', 'create', '--out', file],
    ['keyring', 'add', '--file', file, '--name', 'deterministic', '--algorithm', 'aes-256-gcm-siv'],
  ];
  for (const argv of commands) {
    const code = await main(argv);
    if (code !== 0) throw new Error(`custos ${argv.join(' ')} exited ${code}`);
  }
  return readKeyringFile(file);
}

/** A custos dev server in this process (SQLite in the working directory, root token `root`). */
export async function startDevServer(): Promise<{ url: string; close(): Promise<void> }> {
  const { startServer } = await import('@custos/server');
  const server = await startServer({
    dev: { rootTokenId: 'root' },
    port: 0,
    logLevel: 'silent',
    storage: join(workDir, 'custos.db'),
  });
  return { url: server.url, close: () => server.close() };
}

/** Listens on a free loopback port; returns the base URL. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Serves one JSON document on loopback (a JWKS, a config service). */
export async function serveJson(body: () => unknown): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body()));
  });
  return { url: await listen(server), server };
}

/** `fetch` that fails instead of waiting forever: a route that never answers is a bug. */
export async function fetchWithin(
  url: string,
  init: RequestInit = {},
  ms = 15_000,
): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(ms) });
  } catch (error) {
    throw new Error(`${init.method ?? 'GET'} ${url} did not answer within ${ms} ms`, {
      cause: error,
    });
  }
}

/** Throws with `what` unless `condition` holds. */
export function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`documentation check failed: ${what}`);
}

/** Writes a text file in the working directory. */
export function writeWorkFile(name: string, text: string, mode = 0o600): Promise<void> {
  return writeFile(join(workDir, name), text, { mode });
}

/** What a snippet exports (route handlers, a module class), handed to its context's `finish`. */
export type SnippetExports = Record<string, unknown>;
