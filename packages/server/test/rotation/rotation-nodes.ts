/**
 * Server processes for the multi-process rotation tests: `rotation-node.mjs` (the built server
 * with a `steps` rotator that prints its steps) on one PostgreSQL schema, each SIGKILLable.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { POSTGRES_URL } from '@custos/test-support/services';
import pg from 'pg';
import { freePort } from '../cluster/node-process.js';
import { createTestStorage, send, type TestStorage } from '../harness.js';

const script = fileURLToPath(new URL('./rotation-node.mjs', import.meta.url));

/** One running node process. */
export interface RotationNode {
  readonly name: string;
  readonly url: string;
  /** Every line it printed so far. */
  readonly lines: string[];
  /** Resolves with the first line (printed so far or later) matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends the signal and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  readonly exited: Promise<void>;
}

/** The cluster's shared pieces: storage, the target table, the clock file, the keys. */
export interface RotationCluster {
  readonly storage: TestStorage;
  readonly target: pg.Pool;
  rootToken: string;
  keys: string[];
  /** Starts a node (a fresh port each time) and unseals it when the cluster is initialised. */
  start(name: string, env?: Record<string, string>): Promise<RotationNode>;
  /** Moves every node's clock to real time + `offsetMs`. */
  setClockOffset(offsetMs: number): Promise<void>;
  /** A request to `node` with the root token. */
  call(node: RotationNode, method: string, path: string, body?: unknown): ReturnType<typeof send>;
  close(): Promise<void>;
}

/**
 * Creates the storage and the target table, starts the first node, initialises and unseals it.
 */
export async function startRotationCluster(
  dir: string,
  env: Record<string, string> = {},
): Promise<{ cluster: RotationCluster; first: RotationNode }> {
  const storage = await createTestStorage('postgres');
  if (storage.raw.kind !== 'postgres') throw new Error('a PostgreSQL storage was asked for');
  const schema = storage.raw.schema;
  const target = new pg.Pool({
    connectionString: POSTGRES_URL,
    options: `-c search_path=${schema}`,
  });
  const clockFile = join(dir, 'clock-offset');
  await writeFile(clockFile, '0');
  const nodes: RotationNode[] = [];

  const launch = async (name: string, extra: Record<string, string>): Promise<RotationNode> => {
    const child: ChildProcess = spawn(process.execPath, [script], {
      env: {
        PATH: process.env.PATH,
        STORAGE: storage.location,
        TARGET_URL: POSTGRES_URL,
        TARGET_SCHEMA: schema,
        NAME: name,
        PORT: String(await freePort()),
        CLOCK_FILE: clockFile,
        ...env,
        ...extra,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
    let partial = '';
    let errors = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk;
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        for (const w of [...waiters])
          if (w.pattern.test(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
      }
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const waitFor = (pattern: RegExp, timeoutMs = 15_000) =>
      new Promise<string>((resolve, reject) => {
        const seen = lines.find((l) => pattern.test(l));
        if (seen !== undefined) return resolve(seen);
        const timer = setTimeout(
          () => reject(new Error(`${name}: no line ${pattern} in ${timeoutMs} ms: ${errors}`)),
          timeoutMs,
        );
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    const ready = await Promise.race([
      waitFor(/^READY /, 30_000),
      exited.then(() => {
        throw new Error(`${name} exited before it was ready: ${errors}`);
      }),
    ]);
    const node: RotationNode = {
      name,
      url: ready.slice('READY '.length),
      lines,
      waitFor,
      exited,
      async stop(signal = 'SIGTERM') {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        await exited;
      },
    };
    nodes.push(node);
    return node;
  };

  const cluster: RotationCluster = {
    storage,
    target,
    rootToken: '',
    keys: [],
    async start(name, extra = {}) {
      const node = await launch(name, extra);
      if (cluster.keys.length > 0) {
        const r = await send(node.url, 'POST', 'sys/unseal', { body: { key: cluster.keys[0] } });
        if (r.body?.sealed !== false) throw new Error(`${name} did not unseal: ${r.text}`);
      }
      return node;
    },
    setClockOffset: (offsetMs) => writeFile(clockFile, String(offsetMs)),
    call: (node, method, path, body) =>
      send(node.url, method, path, {
        token: cluster.rootToken,
        ...(body === undefined ? {} : { body }),
      }),
    async close() {
      await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
      await target.end();
      await storage.cleanup();
    },
  };
  const first = await cluster.start('node0');
  await target.query(
    'create table accepted (secret text, value text, primary key (secret, value))',
  );
  await target.query('create table background_runs (rotation_id text, node text)');
  const init = await send(first.url, 'POST', 'sys/init', {
    body: { secret_shares: 1, secret_threshold: 1 },
  });
  if (init.status !== 200) throw new Error(`sys/init answered ${init.status}: ${init.text}`);
  cluster.keys = init.body.keys;
  cluster.rootToken = init.body.root_token;
  const unsealed = await send(first.url, 'POST', 'sys/unseal', { body: { key: cluster.keys[0] } });
  if (unsealed.body?.sealed !== false) throw new Error(`node0 did not unseal: ${unsealed.text}`);
  return { cluster, first };
}
