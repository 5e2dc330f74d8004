/**
 * The soak's short version (the long one is `npm run soak`, DEVELOPERS.md): three node processes
 * on one PostgreSQL behind a round-robin TCP balancer, mixed KV and transit load for about 25 s
 * from a few clients. No request fails and every answer is checked; resident memory is recorded
 * and only held to a generous bound (a short run on a shared machine measures little), never
 * time.
 */
import { requireService } from '@custos/test-support/services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SoakCluster, startSoakCluster } from './soak-cluster.js';
import { renderSoakReport, runSoak } from './soak-load.js';

const pg = await requireService('postgres');

describe.runIf(pg)('soak (short): three nodes behind a balancer', () => {
  let cluster: SoakCluster;
  beforeAll(async () => {
    cluster = await startSoakCluster(3);
  }, 60_000);
  afterAll(async () => {
    await cluster?.close();
  }, 60_000);

  it('serves mixed KV and transit load with zero errors and no runaway memory', async ({
    annotate,
  }) => {
    const report = await runSoak(cluster, {
      durationMs: 25_000,
      warmupMs: 8_000,
      clients: 4,
      sampleEveryMs: 1_000,
    });
    await annotate(renderSoakReport(report));

    expect(report.firstErrors).toEqual([]);
    expect(report.errors).toBe(0);
    for (const count of Object.values(report.byKind)) expect(count).toBeGreaterThan(0);
    // Every node took connections from the balancer.
    for (const count of cluster.balancer.connections()) expect(count).toBeGreaterThan(0);
    for (const node of report.memory) {
      expect(node.samples.length).toBeGreaterThan(10);
      expect(node.growth, node.url).toBeLessThan(0.5);
    }
  }, 90_000);
});
