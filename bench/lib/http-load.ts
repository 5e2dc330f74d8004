import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { Measurement } from './measure.js';

const cli = fileURLToPath(new URL('../../packages/cli/bin/custos.js', import.meta.url));

/** A custos server running in its own process (so its memory is measured alone). */
export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  rssMiB(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts `custos server --dev …` and waits for its address. */
export function startServerProcess(args: readonly string[]): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [cli, 'server', '--dev', '--listen', '127.0.0.1:0', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /Listening on:\s+(http:\/\/\S+)/.exec(output);
      if (match && /Root token/.test(output)) {
        resolve({
          url: match[1] as string,
          pid: child.pid as number,
          async rssMiB() {
            const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
            return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
          },
          stop: () =>
            new Promise((done) => {
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${output}`)));
  });
}

/** One load run: a request shape (the path may change per request) for `seconds`. */
export interface LoadSpec {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly path: () => string;
  readonly body?: string;
  readonly token?: string;
}

/**
 * Runs autocannon against `url` and reports requests/s (mean), spread (stddev / mean), p99
 * latency and the server's peak RSS while loaded. Non-2xx answers fail the run: a benchmark of
 * errors measures nothing.
 */
export async function load(
  server: ServerProcess,
  spec: LoadSpec,
  { seconds = 5, connections = 16 } = {},
): Promise<Measurement> {
  let peak = await server.rssMiB();
  const sampler = setInterval(() => {
    void server.rssMiB().then((rss) => {
      peak = Math.max(peak, rss);
    });
  }, 200);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (spec.token) headers['x-vault-token'] = spec.token;
  try {
    const result = await autocannon({
      url: server.url,
      duration: seconds,
      connections,
      requests: [
        {
          method: spec.method,
          headers,
          ...(spec.body === undefined ? {} : { body: spec.body }),
          setupRequest: (request) => ({ ...request, path: spec.path() }),
        },
      ],
    });
    const failed = result.non2xx + result.errors + result.timeouts;
    if (failed > 0) throw new Error(`${spec.name}: ${failed} requests failed during the benchmark`);
    return {
      name: spec.name,
      opsPerSecond: result.requests.average,
      spread: result.requests.stddev / result.requests.average,
      details: {
        'p99 latency': `${result.latency.p99} ms`,
        'server RSS (peak)': `${peak.toFixed(0)} MiB`,
      },
    };
  } finally {
    clearInterval(sampler);
  }
}
