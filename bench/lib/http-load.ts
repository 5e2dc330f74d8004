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

/** Starts `custos server --dev …` (Node run with `nodeFlags`) and waits for its address. */
export function startServerProcess(
  args: readonly string[],
  nodeFlags: readonly string[] = [],
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [...nodeFlags, cli, 'server', '--dev', '--listen', '127.0.0.1:0', ...args],
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
        'p50 latency': `${result.latency.p50} ms`,
        'p99 latency': `${result.latency.p99} ms`,
        'server RSS (peak)': `${peak.toFixed(0)} MiB`,
      },
      figures: { p50Ms: result.latency.p50, p99Ms: result.latency.p99, peakRssMiB: peak },
    };
  } finally {
    clearInterval(sampler);
  }
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

/**
 * Loads each spec in turn for `rounds` rounds of `seconds / rounds` each (A B C A B C …), so the
 * rows share the machine's drift and their ratios are taken round by round. Ops/s and latency are
 * the rounds' medians, the spread is (max − min) / median, and the peak RSS the highest seen.
 */
export async function loadRounds(
  server: ServerProcess,
  specs: readonly LoadSpec[],
  { seconds = 5, rounds = 3, connections = 16 } = {},
): Promise<Measurement[]> {
  const runs = specs.map(() => [] as Measurement[]);
  for (let round = 0; round < rounds; round++) {
    for (const [i, spec] of specs.entries()) {
      runs[i]?.push(await load(server, spec, { seconds: seconds / rounds, connections }));
    }
  }
  return specs.map((spec, i) => {
    const measured = runs[i] as Measurement[];
    const ops = measured.map((m) => m.opsPerSecond);
    const figure = (name: string) => measured.map((m) => m.figures?.[name] as number);
    const opsMedian = median(ops);
    const p50 = median(figure('p50Ms'));
    const p99 = median(figure('p99Ms'));
    const peak = Math.max(...figure('peakRssMiB'));
    return {
      name: spec.name,
      opsPerSecond: opsMedian,
      spread: (Math.max(...ops) - Math.min(...ops)) / opsMedian,
      rounds: ops,
      details: {
        'p50 latency': `${p50} ms`,
        'p99 latency': `${p99} ms`,
        'server RSS (peak)': `${peak.toFixed(0)} MiB`,
      },
      figures: { p50Ms: p50, p99Ms: p99, peakRssMiB: peak },
    };
  });
}
