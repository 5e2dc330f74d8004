/**
 * A soak: mixed KV and transit load through the balancer for a fixed time, by a fixed number of
 * clients, each request checked (a KV read returns a value its client wrote to that key, a
 * decrypt returns the plaintext that was encrypted). It reports the errors, p50/p99 latency after
 * warm-up and each node's resident memory over time with its growth after warm-up.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { send } from '../harness.js';
import type { SoakCluster } from './soak-cluster.js';

export interface SoakOptions {
  /** How long the load runs, warm-up included. */
  readonly durationMs: number;
  /** The first part of the run, left out of latency and of the memory baseline. */
  readonly warmupMs: number;
  /** Clients sending one request at a time each. */
  readonly clients: number;
  /** How often each node's RSS is read. */
  readonly sampleEveryMs: number;
  /** A hard cap on requests, whatever the time (the loops always end by themselves). */
  readonly maxRequests?: number;
  /** Called at each RSS sample with a one-line summary (the script prints it). */
  readonly onProgress?: (line: string) => void;
}

/** One node's memory over the run. */
export interface NodeMemory {
  readonly url: string;
  readonly samples: readonly { atMs: number; mib: number }[];
  /** Median RSS in the first fifth after warm-up. */
  readonly baselineMiB: number;
  /** Median RSS in the last fifth of the run. */
  readonly endMiB: number;
  readonly peakMiB: number;
  /** `endMiB / baselineMiB - 1`. */
  readonly growth: number;
  /**
   * Growth over the second half after warm-up (end against the median of the fifth around its
   * middle): a leak keeps growing there, a heap that settled late does not.
   */
  readonly secondHalfGrowth: number;
}

export interface SoakReport {
  readonly seconds: number;
  readonly requests: number;
  readonly byKind: Readonly<Record<Kind, number>>;
  readonly errors: number;
  /** The first errors, for the report (never secret values: only statuses and messages). */
  readonly firstErrors: readonly string[];
  /** KV reads that returned an older value this client had written (allowed, counted). */
  readonly staleReads: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly memory: readonly NodeMemory[];
}

type Kind = 'kv-write' | 'kv-read' | 'encrypt' | 'decrypt';

const KEYS_PER_CLIENT = 20;
/** Values remembered per key: a read of an older one of these counts as stale, not an error. */
const VALUES_KEPT = 20;
const CIPHERTEXTS_KEPT = 100;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** Runs the soak against `cluster` and returns its report (errors are counted, not thrown). */
export async function runSoak(cluster: SoakCluster, options: SoakOptions): Promise<SoakReport> {
  const run = randomBytes(4).toString('hex');
  const maxRequests = options.maxRequests ?? 5_000_000;
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const latencies: number[] = [];
  const byKind: Record<Kind, number> = { 'kv-write': 0, 'kv-read': 0, encrypt: 0, decrypt: 0 };
  const firstErrors: string[] = [];
  let errors = 0;
  let staleReads = 0;
  let requests = 0;
  const fail = (message: string) => {
    errors++;
    if (firstErrors.length < 20) firstErrors.push(message);
  };

  const samples = cluster.nodes.map(() => [] as { atMs: number; mib: number }[]);
  const sample = async () => {
    const at = elapsed();
    const rss = await Promise.all(cluster.nodes.map((node) => node.rssMiB().catch(() => 0)));
    rss.forEach((mib, i) => {
      samples[i]?.push({ atMs: at, mib });
    });
    options.onProgress?.(
      `${(at / 1000).toFixed(0)} s: ${requests} requests, ${errors} errors, RSS ${rss
        .map((mib) => `${mib.toFixed(0)}`)
        .join('/')} MiB`,
    );
  };
  await sample();
  const sampler = setInterval(() => void sample(), options.sampleEveryMs);

  const call = async (kind: Kind, method: string, path: string, body?: unknown) => {
    const before = performance.now();
    const answer = await send(cluster.balancer.url, method, path, {
      token: cluster.rootToken,
      ...(body === undefined ? {} : { body }),
    }).catch((err: Error) => ({
      status: 0,
      body: null,
      text: `${err.message} ${err.cause ?? ''}`,
    }));
    requests++;
    byKind[kind]++;
    if (before - started >= options.warmupMs) latencies.push(performance.now() - before);
    if (answer.status !== 200)
      fail(`${kind} ${path}: ${answer.status} ${answer.text.slice(0, 160)}`);
    return answer.status === 200 ? answer : undefined;
  };

  const client = async (c: number) => {
    const written = new Map<string, string[]>();
    const sealed: { ciphertext: string; plaintext: string }[] = [];
    for (let i = 0; elapsed() < options.durationMs && requests < maxRequests; i++) {
      const path = `secret/data/soak-${run}/c${c}/k${i % KEYS_PER_CLIENT}`;
      const step = i % 10;
      if (step < 3 || (step < 6 && written.size === 0)) {
        const value = randomBytes(12).toString('hex');
        if (await call('kv-write', 'POST', path, { data: { value } })) {
          const values = written.get(path) ?? [];
          values.push(value);
          if (values.length > VALUES_KEPT) values.shift();
          written.set(path, values);
        }
      } else if (step < 6) {
        const [key, values] = [...written][i % written.size] as [string, string[]];
        const read = await call('kv-read', 'GET', key);
        const value = read?.body.data.data.value as string | undefined;
        if (read === undefined) continue;
        if (value === values[values.length - 1]) continue;
        if (value !== undefined && values.includes(value)) staleReads++;
        else fail(`kv-read ${key}: a value this client never wrote`);
      } else if (step < 8 || sealed.length === 0) {
        const plaintext = randomBytes(24).toString('base64');
        const answer = await call('encrypt', 'POST', `transit/encrypt/${cluster.transitKey}`, {
          plaintext,
        });
        if (answer) {
          sealed.push({ ciphertext: answer.body.data.ciphertext, plaintext });
          if (sealed.length > CIPHERTEXTS_KEPT) sealed.shift();
        }
      } else {
        const item = sealed[i % sealed.length] as { ciphertext: string; plaintext: string };
        const answer = await call('decrypt', 'POST', `transit/decrypt/${cluster.transitKey}`, {
          ciphertext: item.ciphertext,
        });
        if (answer && answer.body.data.plaintext !== item.plaintext)
          fail('decrypt: a plaintext that was not encrypted');
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.clients }, (_, c) => client(c)));
  } finally {
    clearInterval(sampler);
  }
  await sample();

  const seconds = elapsed() / 1000;
  const measured = options.durationMs - options.warmupMs;
  const memory = cluster.nodes.map((node, i): NodeMemory => {
    const all = samples[i] ?? [];
    const after = all.filter((s) => s.atMs >= options.warmupMs);
    const early = after.filter((s) => s.atMs <= options.warmupMs + measured / 5).map((s) => s.mib);
    const late = after.filter((s) => s.atMs >= options.durationMs - measured / 5).map((s) => s.mib);
    const middle = options.warmupMs + measured / 2;
    const central = after
      .filter((s) => Math.abs(s.atMs - middle) <= measured / 10)
      .map((s) => s.mib);
    const baselineMiB = median(early.length > 0 ? early : after.map((s) => s.mib));
    const endMiB = median(late.length > 0 ? late : after.map((s) => s.mib));
    const middleMiB = median(central.length > 0 ? central : after.map((s) => s.mib));
    return {
      url: node.url,
      samples: all,
      baselineMiB,
      endMiB,
      peakMiB: Math.max(0, ...all.map((s) => s.mib)),
      growth: baselineMiB > 0 ? endMiB / baselineMiB - 1 : 0,
      secondHalfGrowth: middleMiB > 0 ? endMiB / middleMiB - 1 : 0,
    };
  });
  const sorted = latencies.sort((a, b) => a - b);
  return {
    seconds,
    requests,
    byKind,
    errors,
    firstErrors,
    staleReads,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    memory,
  };
}

/** The report as text (the script prints it; the test attaches it). */
export function renderSoakReport(report: SoakReport): string {
  const lines = [
    `soak: ${report.requests} requests in ${report.seconds.toFixed(0)} s (${(
      report.requests / report.seconds
    ).toFixed(0)}/s): ${Object.entries(report.byKind)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ')}`,
    `errors: ${report.errors}${report.firstErrors.map((e) => `\n  ${e}`).join('')}`,
    `stale KV reads (an older value of the same client): ${report.staleReads}`,
    `latency after warm-up: p50 ${report.p50Ms.toFixed(1)} ms, p99 ${report.p99Ms.toFixed(1)} ms`,
    ...report.memory.map(
      (m) =>
        `${m.url}: RSS after warm-up ${m.baselineMiB.toFixed(0)} MiB, at the end ${m.endMiB.toFixed(
          0,
        )} MiB (growth ${(m.growth * 100).toFixed(1)} %; over the second half ${(
          m.secondHalfGrowth * 100
        ).toFixed(1)} %), peak ${m.peakMiB.toFixed(0)} MiB`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
