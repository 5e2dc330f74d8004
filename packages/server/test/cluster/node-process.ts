/**
 * Real custos nodes for cluster fault and load tests: each one is `custos server --config …` in
 * its own process (so it can be SIGKILLed and its memory measured alone), on a port chosen up
 * front (so a restarted node comes back at the same address), with its own audit file, all on
 * one PostgreSQL schema.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { send } from '../harness.js';

const cli = fileURLToPath(new URL('../../../cli/bin/custos.js', import.meta.url));

/** One node process. */
export interface NodeProcess {
  readonly url: string;
  readonly pid: number;
  /** Resolves when the process has exited (by itself or by a signal). */
  readonly exited: Promise<void>;
  /** Everything the process printed so far. */
  output(): string;
  /** Resident memory now, in MiB (from /proc). */
  rssMiB(): Promise<number>;
  /** Sends `signal` and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A free TCP port on loopback (it is closed again before the node listens on it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Where and how a node runs: `dir` holds its configuration file and its audit file. */
export interface NodeSpec {
  readonly name: string;
  readonly dir: string;
  readonly storage: string;
  readonly port: number;
}

/**
 * Writes the node's configuration file and starts `custos server --config` on it; resolves once
 * the node prints its address (sealed or not initialised).
 */
export async function startNodeProcess(spec: NodeSpec): Promise<NodeProcess> {
  const config = join(spec.dir, `${spec.name}.json`);
  await writeFile(
    config,
    JSON.stringify({
      listen: `127.0.0.1:${spec.port}`,
      storage: spec.storage,
      // Sink names are cluster-wide (each sink's chain state lives in the shared storage), so
      // every node names its own sink.
      audit: [{ type: 'file', name: spec.name, path: `${spec.name}-audit.log` }],
      logLevel: 'warn',
    }),
  );
  const child: ChildProcess = spawn(process.execPath, [cli, 'server', '--config', config], {
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match && /unseal with|not initialised/.test(output)) {
        resolve({
          url: match[1] as string,
          pid: child.pid as number,
          exited,
          output: () => output,
          async rssMiB() {
            const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
            return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
          },
          async stop(signal = 'SIGTERM') {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            await exited;
          },
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) =>
      reject(new Error(`${spec.name} exited (${code ?? signal}) before listening: ${output}`)),
    );
  });
}

/** Submits the unseal shares one by one until the node answers unsealed. */
export async function unsealNode(node: NodeProcess, keys: readonly string[]): Promise<void> {
  for (const key of keys) {
    const answer = await send(node.url, 'POST', 'sys/unseal', { body: { key } });
    if (answer.status !== 200) throw new Error(`unseal answered ${answer.status}: ${answer.text}`);
    if (answer.body.sealed === false) return;
  }
  throw new Error(`${node.url} is still sealed after ${keys.length} shares`);
}

/** Initialises the cluster's storage through `node` (3 shares, threshold 2). */
export async function initCluster(
  node: NodeProcess,
): Promise<{ keys: string[]; rootToken: string }> {
  const init = await send(node.url, 'POST', 'sys/init', {
    body: { secret_shares: 3, secret_threshold: 2 },
  });
  if (init.status !== 200) throw new Error(`sys/init answered ${init.status}: ${init.text}`);
  return { keys: init.body.keys, rootToken: init.body.root_token };
}
