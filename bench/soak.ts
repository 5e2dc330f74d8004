/**
 * `npm run soak [-- --minutes N --clients N]`: N minutes (default 10) of mixed KV and transit
 * load across three custos node processes on one PostgreSQL, behind a round-robin TCP balancer.
 * Prints each node's RSS as it goes, then the report: errors (must be zero), p50/p99 latency
 * after warm-up, and each node's memory growth after warm-up (goal under 10 %). Exits 1 when a
 * request failed or a node's memory grew by 10 % or more. Needs PostgreSQL (as the tests do:
 * CUSTOS_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test); every request goes
 * to loopback and the run ends by itself.
 */
import { parseArgs } from 'node:util';
import { startSoakCluster } from '../packages/server/test/cluster/soak-cluster.js';
import { renderSoakReport, runSoak } from '../packages/server/test/cluster/soak-load.js';

const GROWTH_GOAL = 0.1;

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    clients: { type: 'string', default: '8' },
    nodes: { type: 'string', default: '3' },
  },
});
const minutes = Number(values.minutes);
const clients = Number(values.clients);
const nodes = Number(values.nodes);
if (!(minutes > 0 && minutes <= 24 * 60) || !Number.isInteger(clients) || clients < 1) {
  process.stderr.write('soak: --minutes must be in (0, 1440] and --clients a positive integer\n');
  process.exit(2);
}
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) {
  process.stderr.write('soak: --nodes must be an integer from 1 to 9\n');
  process.exit(2);
}

const durationMs = minutes * 60_000;
// Warm-up: a fifth of the run, at most two minutes.
const warmupMs = Math.min(durationMs / 5, 120_000);
process.stderr.write(`soak: starting ${nodes} nodes…\n`);
const cluster = await startSoakCluster(nodes);
let failed = true;
try {
  process.stderr.write(
    `soak: ${minutes} min, ${clients} clients through ${cluster.balancer.url} (warm-up ${(
      warmupMs / 1000
    ).toFixed(0)} s)\n`,
  );
  const report = await runSoak(cluster, {
    durationMs,
    warmupMs,
    clients,
    sampleEveryMs: Math.max(1_000, Math.min(10_000, durationMs / 60)),
    onProgress: (line) => process.stderr.write(`  ${line}\n`),
  });
  process.stdout.write(renderSoakReport(report));
  const grown = report.memory.filter((m) => m.growth >= GROWTH_GOAL);
  for (const m of grown)
    process.stdout.write(`goal missed: ${m.url} grew ${(m.growth * 100).toFixed(1)} % (< 10 %)\n`);
  failed = report.errors > 0 || grown.length > 0;
} finally {
  await cluster.close();
}
process.exit(failed ? 1 : 0);
