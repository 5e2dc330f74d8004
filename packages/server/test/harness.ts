/**
 * Test support for the server: real servers over real HTTP, on real SQLite and PostgreSQL.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dropPostgresSchema,
  POSTGRES_URL,
  requireService,
  uniqueName,
} from '@custos/test-support/services';
import { type RunningServer, type StartOptions, startServer } from '../src/server.js';

/** The storages every server behaviour is tested on. */
export type StorageKind = 'sqlite' | 'postgres';

/**
 * Storages available here (PostgreSQL is required under CI, see `@custos/test-support/services`).
 * `CUSTOS_TEST_STORAGE=sqlite` keeps to SQLite (mutation testing, where every test runs once
 * per mutant; never set under CI).
 */
export async function storageKinds(): Promise<StorageKind[]> {
  if (process.env.CUSTOS_TEST_STORAGE === 'sqlite') {
    if (process.env.CI === 'true') {
      throw new Error('CUSTOS_TEST_STORAGE=sqlite would skip PostgreSQL: never set it under CI');
    }
    return ['sqlite'];
  }
  return (await requireService('postgres')) ? ['sqlite', 'postgres'] : ['sqlite'];
}

/** A fresh storage location and how to remove it. */
export interface TestStorage {
  readonly location: string;
  /** SQLite file path or PostgreSQL schema name, for tests that inspect the raw data. */
  readonly raw: { kind: 'sqlite'; file: string } | { kind: 'postgres'; schema: string };
  cleanup(): Promise<void>;
}

/** Creates an empty SQLite file in a temp directory, or an empty PostgreSQL schema. */
export async function createTestStorage(kind: StorageKind): Promise<TestStorage> {
  if (kind === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'custos-server-'));
    const file = join(dir, 'custos.db');
    return {
      location: file,
      raw: { kind, file },
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const schema = uniqueName('server');
  return {
    location: `${POSTGRES_URL}?schema=${schema}`,
    raw: { kind, schema },
    cleanup: () => dropPostgresSchema(schema),
  };
}

/** A response as tests see it. */
export interface TestResponse {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response JSON
  readonly body: any;
  readonly text: string;
  readonly headers: Headers;
}

/** A running server with a small HTTP client. */
export interface TestServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly rootToken: string;
  readonly storage: TestStorage;
  request(
    method: string,
    path: string,
    options?: {
      body?: unknown;
      token?: string | null;
      headers?: Record<string, string>;
      raw?: string;
    },
  ): Promise<TestResponse>;
  /** Writes an ACL policy: `{ 'secret/data/*': ['read'] }`, in HCL as users write them. */
  policy(name: string, rules: Record<string, readonly string[]>): Promise<TestResponse>;
  /** Creates a token (as root) and returns it. */
  token(body: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/**
 * A policy in HCL: one `path` block per pattern, with its capabilities.
 *
 * @example
 * ```ts
 * hclPolicy({ 'secret/data/*': ['read'] });
 * // 'path "secret/data/*" {\n  capabilities = ["read"]\n}\n'
 * ```
 */
export function hclPolicy(rules: Record<string, readonly string[]>): string {
  return Object.entries(rules)
    .map(
      ([pattern, caps]) =>
        `path ${JSON.stringify(pattern)} {\n  capabilities = ${JSON.stringify(caps)}\n}\n`,
    )
    .join('');
}

/** Sends one request to `url` (path without the `/v1/` prefix). */
export async function send(
  url: string,
  method: string,
  path: string,
  options: {
    body?: unknown;
    token?: string | null;
    headers?: Record<string, string>;
    raw?: string;
  } = {},
): Promise<TestResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers['x-vault-token'] = options.token;
  const body =
    options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined && headers['content-type'] === undefined)
    headers['content-type'] = 'application/json';
  const response = await fetch(`${url}/v1/${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  return { status: response.status, body: parsed, text, headers: response.headers };
}

/**
 * Starts a dev server (unsealed, root token `root`) on a fresh storage of `kind`.
 *
 * @example
 * ```ts
 * const s = await startTestServer('postgres');
 * await s.request('POST', 'secret/data/a', { body: { data: { x: '1' } } });
 * ```
 */
export async function startTestServer(
  kind: StorageKind,
  options: Partial<StartOptions> = {},
): Promise<TestServer> {
  const storage = await createTestStorage(kind);
  const server = await startServer({
    dev: { rootTokenId: 'root' },
    port: 0,
    logLevel: 'silent',
    storage: storage.location,
    ...options,
  });
  return {
    server,
    url: server.url,
    rootToken: 'root',
    storage,
    request: (method, path, requestOptions = {}) =>
      send(server.url, method, path, { token: 'root', ...requestOptions }),
    policy: (name, rules) =>
      send(server.url, 'POST', `sys/policies/acl/${name}`, {
        token: 'root',
        body: { policy: hclPolicy(rules) },
      }),
    token: async (body) =>
      (await send(server.url, 'POST', 'auth/token/create', { token: 'root', body })).body.auth
        .client_token as string,
    async close() {
      await server.close();
      await storage.cleanup();
    },
  };
}
